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

from ..components import load_all
from ..components.base import Component
from ..errors import LimitError, Location, Problem, SpecError
from ..schema import MODELINE, SCHEMA_FILE
from ..spec.app_template import AppTemplate
from ..spec.kind_facts import TemplateResource, bindings_by_type, ref_target, yaml_scalar

# Why a resource type no kind watches is not watched (shown as a comment in the starter spec); a kind's
# related types carry their reason on the kind (`Component.not_watched`).
NOT_WATCHED = {
    "AWS::CloudWatch::Alarm": "already an alarm",
    "AWS::CloudFormation::Stack": "a nested stack: run `mlmon init --from-template` on its template",
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
    """CloudFormation type -> the kind that watches it, from every registered kind's `bindings`."""
    return {rtype: kind for rtype, (kind, _) in bindings_by_type(load_all()).items()}


def not_watched() -> dict[str, str]:
    """Resource type -> why it gets no component: the kinds' `not_watched`, then the generic reasons."""
    found = dict(NOT_WATCHED)
    for name in sorted(load_all()):
        found.update(load_all()[name].not_watched)
    return found


AGENT = "AWS::Bedrock::Agent"
AGENT_WITHOUT_ALIAS = ("no AWS::Bedrock::AgentAlias of it in this template, and AWS publishes agent metrics per alias only "
                       "(Operation, AgentAliasArn, ModelId): for the alias the application invokes, add a bedrock_model with "
                       "agent_alias_arn and model_id (its FoundationModel)")


def _agent_reason(logical: str, app: AppTemplate) -> str:
    """Why an agent itself is not a component: watched through its aliases, or it has none here."""
    aliased = any(v.type == "AWS::Bedrock::AgentAlias" and ref_target(v.properties.get("AgentId")) == logical
                  for v in app.views())
    return reason(AGENT) if aliased else AGENT_WITHOUT_ALIAS


def reason(rtype: str) -> str:
    reasons = not_watched()
    if rtype in reasons:
        return reasons[rtype]
    return next((why for prefix, why in PREFIX_REASONS.items() if rtype.startswith(prefix)),
                "no mlmon component kind for this resource type")


_quote = yaml_scalar


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
        "exclude: []   # logical IDs mlmon leaves unwatched: every other resource it can watch is watched, listed below or not",
        "notifications:",
        "  emails: [oncall@example.com]   # TODO: who hears about failures (each address confirms by email)",
        "environments:                    # `--env dev` applies dev's overrides (thresholds, recipients) to the same template",
        "  dev: {}",
        "  prod: {}",
        "components:",
    ]
    taken: set[str] = set()
    registry = load_all()
    kinds = watchable()
    handlers = deploy_time_handlers(app)
    for view in app.views():  # typed views: a resource of any shape is read or skipped with the reason
        logical, rtype = view.logical, view.type
        if rtype not in kinds:
            why = view.problem or (_agent_reason(logical, app) if rtype == AGENT else None)
            why = why or _silent_alarm(view.properties, rtype) or reason(str(rtype))
            found.skipped.append((logical, str(rtype), why))
            continue
        kind = kinds[rtype]
        read = TemplateResource(logical, rtype, view.properties, app)
        why_not = view.problem or handlers.get(logical) or registry[kind].init_skip(read)
        if why_not:
            found.skipped.append((logical, rtype, why_not))
            continue
        lines.extend(_entry(view, kind, registry[kind], read, taken))
        found.watched.append(logical)
    if not found.watched:
        lines.append("  []  # nothing here mlmon can watch (see below); add components by hand")
    if found.skipped:
        lines.append("")
        lines.append("# Not watched:")
        lines.extend(f"#   {logical} ({rtype}): {why}" for logical, rtype, why in found.skipped)
    found.text = "\n".join(lines) + "\n"
    return found


_FRAMEWORK_USER_FUNCTIONS = ("USER_ON_EVENT_FUNCTION_ARN", "USER_IS_COMPLETE_FUNCTION_ARN")  # CDK provider framework


def _named(value: Any) -> str | None:
    """The logical ID a `Ref` / `Fn::GetAtt` / `${X.Arn}` names, if any."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".", 1)[0]
        sub = value.get("Fn::Sub")
        found = re.fullmatch(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}", sub if isinstance(sub, str) else "")
        return found.group(1) if found else None
    return None


def deploy_time_handlers(app: AppTemplate) -> dict[str, str]:
    """Functions that run only while the stack deploys: custom-resource handlers (a ServiceToken
    names them) and the handlers a CDK provider framework calls. CloudFormation reports their
    failure as a failed deploy, so they are not watched by default (logical ID -> why)."""
    out: dict[str, str] = {}
    resources = app.resources
    for logical, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        rtype, props = str(resource.get("Type")), resource.get("Properties") or {}
        if (rtype == "AWS::CloudFormation::CustomResource" or rtype.startswith("Custom::")) and isinstance(props, dict):
            handler = _named(props.get("ServiceToken"))
            if handler in resources:
                out[handler] = (f"a custom-resource handler (ServiceToken of {logical}): it runs only while the stack "
                                "deploys and CloudFormation reports its failure; add a component by hand to watch it")
    for logical in list(out):
        env = ((resources[logical].get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        for key in _FRAMEWORK_USER_FUNCTIONS if isinstance(env, dict) else ():
            handler = _named(env.get(key))
            if handler in resources:
                out[handler] = (f"a custom-resource handler called by the provider framework {logical}: it runs only "
                                "while the stack deploys; add a component by hand to watch it")
    return out


def _silent_alarm(props: Any, rtype: Any) -> str | None:
    """Your own alarm that notifies nobody: say so instead of 'already an alarm'."""
    if rtype not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm") or not isinstance(props, dict):
        return None
    if props.get("ActionsEnabled") in (False, "false", "False"):
        return "your alarm notifies nobody (ActionsEnabled: false): enable its actions, or nobody hears it"
    if not props.get("AlarmActions"):
        return "your alarm notifies nobody (no AlarmActions): give it an SNS topic, or nobody hears it"
    return None


def _entry(view: Any, kind: str, kind_cls: type[Component], read: TemplateResource, taken: set[str]) -> list[str]:
    """One component of the starter spec (a resource's typed view): kind, name, `resource:` and what the template tells."""
    entry = [f"  - kind: {kind}", f"    name: {component_name(view.logical, taken)}",
             f"    resource: {view.logical}            # {view.type}"]
    if view.condition is not None:
        entry.append(f"    # Condition {view.condition}: the monitoring is created only when it is true")
    entry.extend(init_lines(kind_cls, read))
    return entry


def default_components(app: AppTemplate, skip: set[str], taken: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """Watch by default: the components `init` would write for every resource of `app` mlmon can
    watch that is not in `skip` (bound by the spec, or excluded), as YAML text (`components:`), and
    the (logical ID, kind) pairs added. `taken` holds the spec's component names (kept unique)."""
    lines, added = ["components:"], []
    registry = load_all()
    kinds = watchable()
    handlers = deploy_time_handlers(app)
    for view in app.views():
        if view.logical in skip or view.type not in kinds or view.problem or view.logical in handlers:
            continue
        kind = kinds[view.type]
        read = TemplateResource(view.logical, view.type, view.properties, app)
        if registry[kind].init_skip(read):
            continue
        lines.extend(_entry(view, kind, registry[kind], read, taken))
        added.append((view.logical, kind))
    return "\n".join(lines) + "\n", added


def init_lines(kind: type[Component], resource: TemplateResource) -> list[str]:
    """The lines a kind writes under a component of `resource` (its `init_lines` hook)."""
    return kind.init_lines(resource)
