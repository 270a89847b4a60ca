"""`mlmon init`: write a commented starter spec from an existing template or a deployed stack.

`--from-template` refers to each resource by logical ID (`resource:`), so the spec works for
unnamed and parameter-named resources and `generate` writes the user's template with the
monitoring merged in; `--from-stack` (discover/stack.py) writes literal physical names for a
separate monitoring stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..components import builtin_kinds
from ..components._instance_types import instance_size
from ..errors import LimitError, Location, Problem, SpecError
from ..schema import MODELINE, SCHEMA_FILE
from ..spec.app_template import AppTemplate, mapping
from ..spec.cfn_values import RESOURCE_KINDS, property_text

PROFILE_NOTE = ("    # model_id: the profile's ID (InferenceProfileId, the ARN's last part): runtime metrics of an application "
                "inference profile carry it in ModelId, not the ARN the application sends ([unverified] by AWS's pages: "
                "aws cloudwatch list-metrics --namespace AWS/Bedrock --dimensions Name=ModelId,Value=<profile ID>)")
LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor SAM Globals set Timeout (Lambda's default)
SPARK_ALARMS = ("failed_tasks", "heap_usage")

# Why a resource type is not watched (shown as a comment in the starter spec).
NOT_WATCHED = {
    "AWS::SageMaker::Model": "a model has no metrics of its own: the endpoint or job that uses it is watched",
    "AWS::SageMaker::EndpointConfig": "read for its endpoint's variants and type; the endpoint is watched",
    "AWS::SageMaker::MonitoringSchedule": "Model Monitor: give the endpoint component `data_quality`/`model_quality`",
    "AWS::Events::Rule": "a trigger, not a workload: the target it starts is watched",
    "AWS::Lambda::Version": "the function is watched (its metrics include every version)",
    "AWS::Lambda::Permission": "a permission, nothing runs",
    "AWS::StepFunctions::Activity": "activity workers are watched through the state machine that calls them",
    "AWS::CloudWatch::Alarm": "already an alarm",
    "AWS::CloudFormation::Stack": "a nested stack: run `mlmon init --from-template` on its template",
    "AWS::SageMaker::ModelPackage": "a model version: its model package group is watched (sagemaker_model_registry)",
    "AWS::Bedrock::Agent": "agent metrics exist per alias only (Operation, AgentAliasArn, ModelId): each "
                           "AWS::Bedrock::AgentAlias of it in this template is watched (for others: a bedrock_model "
                           "with agent_alias_arn and model_id)",
    "AWS::Bedrock::KnowledgeBase": "AWS documents no CloudWatch metric or EventBridge event mlmon can alarm on for a "
                                   "knowledge base: deliver its logs to CloudWatch Logs (vended logs) and give a "
                                   "component `log_group`, or poll ListIngestionJobs/GetIngestionJob",
    "AWS::Bedrock::DataSource": "AWS documents no EventBridge event for data-source syncs (ingestion jobs) and no "
                                "metric: poll ListIngestionJobs/GetIngestionJob (status FAILED) or read the knowledge "
                                "base's logs",
}
PREFIX_REASONS = {
    "AWS::IAM::": "identity and permissions: nothing runs, nothing to alarm on",
    "AWS::S3::": "storage: no ML failure mode for mlmon to watch",
    "AWS::SSM::": "configuration: nothing runs",
    "AWS::KMS::": "a key: nothing runs",
    "AWS::SNS::": "messaging the solution uses, not a workload",
    "AWS::Glue::": "Glue metadata (database, table, crawler, trigger): only Glue jobs are watched",
    "AWS::Logs::": "a log group: give a component `log_group` to search it",
    "AWS::ServiceCatalog::": "Service Catalog plumbing: nothing runs",
}


@dataclass
class Discovered:
    """What a template holds: the starter spec text, and its counts (for coverage reports)."""

    text: str
    watched: list[str] = field(default_factory=list)  # logical IDs given a component
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (logical ID, type, reason)

    def refusal(self, app: AppTemplate) -> list[Problem]:
        """Why no spec is written when nothing is watched (a spec without components is one `generate`
        refuses): the template, then each resource with its reason, located in `app`."""
        if self.watched:
            return []
        head = Problem(Location(app.file, 1, 1, "Resources"),
                       "nothing in this template is a resource mlmon can watch, so no spec was written: add "
                       "components by hand (`mlmon kinds` lists them) or run init on the template of the workload")
        return [head, *(Problem(app.location("Resources", logical), f"{rtype}: {why}")
                        for logical, rtype, why in self.skipped)]


def starter_problems(text: str, file: str, base: Path) -> list[Problem]:
    """What `validate` would say of a starter spec written to `file` (in folder `base`): a spec
    `init` writes is one `validate` accepts, or `init` reports why (a spec without components is
    fine: the comments say why nothing is watched)."""
    from ..core.pipeline import validate

    try:
        validate(text, file, base=base)
    except SpecError as exc:
        return [p for p in exc.problems if not p.message.startswith("list at least one component")]
    except LimitError:
        return []  # the output is split or refused past 500 resources: `generate` says how
    return []


def component_name(logical: str, taken: set[str]) -> str:
    """A spec component name from a logical ID: kebab-case, unique once PascalCased (logical IDs)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", logical).lower()
    base = re.sub(r"[^a-z0-9-]+", "-", words).strip("-")[:60] or "resource"
    if not base[0].isalpha():
        base = "r-" + base
    name, n = base, 2
    key = lambda s: s.replace("-", "").replace("_", "")  # noqa: E731 - what naming.logical_id keeps
    while key(name) in {key(t) for t in taken}:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def watchable() -> dict[str, str]:
    """CloudFormation type -> the kind that watches it, from each kind's `cfn_types` (the types a
    `resource:` binding also knows in spec/cfn_values.RESOURCE_KINDS; a test keeps the two in step)."""
    return {t: cls.kind for cls in builtin_kinds().values() for t in cls.cfn_types if t in RESOURCE_KINDS}


def reason(rtype: str) -> str:
    if rtype in NOT_WATCHED:
        return NOT_WATCHED[rtype]
    return next((why for prefix, why in PREFIX_REASONS.items() if rtype.startswith(prefix)),
                "no mlmon component kind for this resource type")


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9._/@-]+", text) else "'" + text.replace("'", "''") + "'"


def spec_from_template(app: AppTemplate, template_ref: str, solution: str, source: str) -> Discovered:
    """The starter spec for `app` (referred to as `template_ref` from the spec's folder)."""
    found = Discovered("")
    lines = [
        MODELINE,
        f"# mlmon spec written by `mlmon init --from-template {source}`: review it, then",
        "#   mlmon generate THIS_FILE -o monitored.yaml   # your template with the monitoring added",
        "# Components refer to your resources by logical ID (`resource:`), so generated and parameter-made",
        "# names work. Thresholds are mlmon's defaults unless noted; `mlmon kinds` lists every alarm.",
        f"# Editor completion and CI checks: mlmon schema > {SCHEMA_FILE}   (beside this file)",
        f"solution: {solution}   # TODO: review: names the app in alarm texts; physical names come from the stack name",
        f"template: {_quote(template_ref)}",
        "notifications:",
        "  emails: [oncall@example.com]   # TODO: who hears about failures (each address confirms by email)",
        "environments:                    # `--env dev` applies dev's overrides (thresholds, recipients) to the same template",
        "  dev: {}",
        "  prod: {}",
        "components:",
    ]
    taken: set[str] = set()
    kinds = watchable()
    for view in app.views():  # typed views: a resource of any shape is read or skipped with the reason
        logical, rtype = view.logical, view.type
        if rtype not in kinds:
            found.skipped.append((logical, str(rtype), view.problem or reason(str(rtype))))
            continue
        kind = kinds[rtype]
        props = view.properties
        why_not = view.problem or _unbindable(logical, rtype, props, app)
        if why_not:
            found.skipped.append((logical, rtype, why_not))
            continue
        entry = [f"  - kind: {kind}", f"    name: {component_name(logical, taken)}",
                 f"    resource: {logical}            # {rtype}"]
        if view.condition is not None:
            entry.append(f"    # Condition {view.condition}: the monitoring is created only when it is true")
        entry.extend(_settings(kind, rtype, props, app))
        lines.extend(entry)
        found.watched.append(logical)
    if not found.watched:
        lines.append("  []  # nothing here mlmon can watch (see below); add components by hand")
    if found.skipped:
        lines.append("")
        lines.append("# Not watched:")
        lines.extend(f"#   {logical} ({rtype}): {why}" for logical, rtype, why in found.skipped)
    found.text = "\n".join(lines) + "\n"
    return found


def _settings(kind: str, rtype: str, props: dict[str, Any], app: AppTemplate) -> list[str]:
    """Options and alarm switches the template tells us, each with the reason as a comment."""
    if kind == "lambda":
        timeout = props.get("Timeout")
        if timeout is None and rtype == "AWS::Serverless::Function":
            timeout = mapping(mapping(app.data.get("Globals")).get("Function")).get("Timeout")
            where = "from SAM Globals" if timeout is not None else ""
        else:
            where = ""
        if timeout is None:
            return [f"    timeout_seconds: {LAMBDA_DEFAULT_TIMEOUT}        # Lambda's default timeout; Duration p90 alarm at 80 %"]
        if isinstance(timeout, int) and 1 <= timeout <= 900:
            note = f"{where}; " if where else ""
            return [f"    timeout_seconds: {timeout}        # {note}Duration p90 alarm at 80 % of it"]
        return ["    # timeout: set by a parameter or expression; give timeout_seconds for the Duration p90 alarm",
                "    alarms: {duration_p90: false}"]
    if kind == "step_functions":
        sm_type = props.get("Type") if rtype == "AWS::Serverless::StateMachine" else props.get("StateMachineType")
        if sm_type == "EXPRESS":
            return ["    # EXPRESS: Express workflows send no execution status events, so only the metric alarms apply",
                    "    alarms: {execution_failed: false}"]
        return [f"    # {sm_type or 'STANDARD'} workflow: execution metrics plus the failed-execution event rule"]
    if kind == "glue_job":
        args = props.get("DefaultArguments") or {}
        command = mapping(props.get("Command")).get("Name")
        if command == "pythonshell":
            return ["    # Python shell job: no Spark metrics; the job-run failure rule watches it",
                    "    alarms: {failed_tasks: false, heap_usage: false}"]
        if isinstance(args, dict) and "--enable-metrics" in args:
            return ["    # DefaultArguments has --enable-metrics: Spark metric alarms are on"]
        return ["    # no --enable-metrics in DefaultArguments: Spark metric alarms off (add it to turn them on)",
                "    alarms: {failed_tasks: false, heap_usage: false}"]
    if kind == "sagemaker_endpoint":
        return _endpoint(props, app)
    if rtype == "AWS::Bedrock::AgentAlias":
        model = _agent_model(props, app)
        assert model is not None  # _unbindable skipped the alias otherwise
        return [f"    model_id: {model[0]}   # FoundationModel of {model[1]} (ModelId of the agent metrics)",
                "    # the agent's role needs cloudwatch:PutMetricData on namespace AWS/Bedrock/Agents, else no metrics",
                "    # [unverified] that ModelId is FoundationModel as written (an ID, ARN or profile): aws cloudwatch "
                "list-metrics --namespace AWS/Bedrock/Agents --dimensions Name=AgentAliasArn,Value=<alias ARN>"]
    if rtype in ("AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion"):
        version = "its working draft (DRAFT)" if rtype == "AWS::Bedrock::Guardrail" else "this version"
        return [f"    # guardrail alarms on GuardrailArn + GuardrailVersion = {version}; add model_id to watch the model too"]
    if rtype == "AWS::Bedrock::ApplicationInferenceProfile":
        return [PROFILE_NOTE]
    if rtype == "AWS::SageMaker::InferenceComponent":
        return ["    # InferenceComponentName dimension: the name in the component's ARN (no GetAtt returns it)"]
    if rtype == "AWS::SageMaker::Cluster":
        if props.get("NodeProvisioningMode") == "Continuous":
            return ["    continuous_provisioning: true   # NodeProvisioningMode Continuous: Error-level cluster events too"]
        return ["    # no NodeProvisioningMode Continuous: cluster state and node health events only"]
    if rtype == "AWS::SageMaker::ModelPackageGroup":
        return ["    # failed model packages alarm; approval changes are sent as information (no alarm)"]
    return []


def _target(value: Any) -> str | None:
    """The logical ID a `Ref` or `Fn::GetAtt` value points at."""
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"]
    att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(att, list) and att and isinstance(att[0], str):
        return att[0]
    if isinstance(att, str):
        return att.split(".", 1)[0]
    return None


def _agent_model(props: dict[str, Any], app: AppTemplate) -> tuple[str, str] | None:
    """(model_id spec text, agent logical ID) for an agent alias whose agent is in the template."""
    agent = _target(props.get("AgentId"))
    resource = app.resource(agent)
    if resource is None or resource.type != "AWS::Bedrock::Agent":
        return None
    model = property_text({"Properties": resource.properties}, "FoundationModel")
    if model is None or app.unresolved(model):
        return None
    ref = re.fullmatch(r"\$\{([A-Za-z0-9]+)\}", model)
    # long forms, not !Ref/!Sub: JSON Schema tools (check-jsonschema, editors) cannot read YAML tags
    text = "{Ref: %s}" % ref.group(1) if ref else _quote(model) if "${" not in model else "{Fn::Sub: %s}" % _quote(model)
    return text, str(agent)


def _unbindable(logical: str, rtype: str, props: dict[str, Any], app: AppTemplate) -> str | None:
    """Why a resource of a watchable type still gets no component (shown as a comment), or None."""
    if rtype == "AWS::Bedrock::AgentAlias" and _agent_model(props, app) is None:
        return ("its agent or the agent's FoundationModel is not in this template, and agent metrics need the ModelId: "
                "add a bedrock_model with agent_alias_arn and model_id by hand")
    cluster = property_text({"Properties": props}, "ClusterName") if rtype == "AWS::SageMaker::Cluster" else None
    if cluster is not None and app.unresolved(cluster):
        return f"its ClusterName refers to {', '.join(app.unresolved(cluster))}, which this template does not declare"
    if rtype == "AWS::SageMaker::Cluster" and cluster is None:
        return ("no literal, !Ref or !Sub ClusterName, and the HyperPod events name the cluster: set ClusterName "
                "(the cluster's ARN ends in its ID, not its name)")
    if rtype == "AWS::Bedrock::Guardrail":
        versions = [r.logical for r in app.views() if r.type == "AWS::Bedrock::GuardrailVersion"
                    and _target(r.properties.get("GuardrailIdentifier")) == logical]
        if versions:
            return f"its version {', '.join(versions)} is watched (applications call a numbered version, not the DRAFT)"
    return None


def _endpoint(props: dict[str, Any], app: AppTemplate) -> list[str]:
    """variants, endpoint_type and instance_type from the endpoint's EndpointConfig in the template."""
    logical = _target(props.get("EndpointConfigName"))
    config = app.resource(logical)
    if config is None or config.type != "AWS::SageMaker::EndpointConfig":
        return ["    # its EndpointConfig is not in this template: check variants, endpoint_type and instance_type"]
    cprops = config.properties
    raw = cprops.get("ProductionVariants")
    variants = [v for v in raw if isinstance(v, dict)] if isinstance(raw, list) else []
    names = [v.get("VariantName") for v in variants]
    literal = [n for n in names if isinstance(n, str)]
    out = []
    if names and literal == names:
        out.append(f"    variants: [{', '.join(_quote(n) for n in literal)}]   # from {logical}")
    elif names:
        out.append(f"    # variants: named by a parameter in {logical}; list them here (default AllTraffic)")
    if any("ServerlessConfig" in v for v in variants):
        out.append(f"    endpoint_type: serverless   # {logical} has ServerlessConfig: cold-start (ModelSetupTime), memory and "
                   "concurrency alarms; AWS publishes no InvocationModelErrors or instance metrics for it")
        return out
    if "AsyncInferenceConfig" in cprops:
        out.append(f"    endpoint_type: async   # {logical} has AsyncInferenceConfig: backlog and S3/SNS failure alarms, "
                   "no OverheadLatency")
    out.extend(_instance_type(variants, logical, app))
    return out


def _instance_type(variants: list[dict[str, Any]], config: str, app: AppTemplate) -> list[str]:
    """`instance_type` when every variant names the same one (a literal or a parameter's default)."""
    found: dict[str, str] = {}  # instance type -> where it came from
    for variant in variants:
        value = variant.get("InstanceType")
        if isinstance(value, str):
            found.setdefault(value, f"from {config}")
            continue
        param = value.get("Ref") if isinstance(value, dict) else None
        parameters = app.data.get("Parameters")
        declared = parameters.get(param) if isinstance(parameters, dict) and isinstance(param, str) else None
        default = declared.get("Default") if isinstance(declared, dict) else None
        if not isinstance(default, str):
            return [f"    # instance_type: set by an expression or a parameter without a default in {config}; give it "
                    + "(e.g. ml.g5.2xlarge) to scale the CPU/GPU thresholds (1 vCPU assumed until then)"]
        found.setdefault(default, f"parameter {param}'s value in {config}: change this if a deployment overrides it")
    if len(found) != 1:
        mixed = ", ".join(sorted(found))
        return [f"    # instance_type: the variants use {mixed}; give the smallest to scale the CPU/GPU thresholds "
                + "(1 vCPU assumed until then)"] if found else []
    (itype, where), = found.items()
    size = instance_size(itype)
    if size is None:
        return [f"    instance_type: {_quote(itype)}   # {where}; not in mlmon's table: give instance_vcpus/instance_gpus"]
    gpu = f", {size.gpus} GPU{'s' if size.gpus != 1 else ''}: GPU alarm on" if size.gpus else ""
    return [f"    instance_type: {_quote(itype)}   # {where} ({size.vcpus} vCPUs{gpu}; CPU threshold x {size.vcpus})"]
