"""The step types a workflow can use: one small class each (keys, Task Resource, IAM, retry policy).

Resources and IAM follow ../shared/reference/aws-monitoring-facts.md §3.3 ("IAM policies for ..."
pages of the Step Functions guide). Retry defaults are not repeated here: `policy` names the entry
of mlmon_cli/asl/retry_policies.py that `mlmon harden` uses too, where each default names its source.

ARNs in the role policy are written with `${AWS::Partition}` etc. (they become `Fn::Sub`). Task
`Resource`s are literal `arn:aws:states:::...`: cfn-lint 1.51 (E3601) rejects anything else there,
even a DefinitionSubstitutions placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from .. import limits
from ..spec.convert import LAMBDA_ARN, MISSING, TOPIC_ARN, SpecReader
from ..spec.model import doc

SAGEMAKER = "sagemaker.amazonaws.com"
REGION_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"
ALERT_TOPIC = "${AlertTopicArn}"  # the solution's topic: a DefinitionSubstitutions key, resolved in iam.py too
LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# Generated SageMaker names are <prefix><execution name>: 63 characters at most, and a default
# execution name is a 36-character UUID, so the prefix may use the other 27.
# At least MIN_IAM_SCOPE_PREFIX characters: the prefix scopes the role's IAM (`training-job/<prefix>*`).
SAGEMAKER_PREFIX = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9-]{{{limits.MIN_IAM_SCOPE_PREFIX - 1},26}}\Z")
PREFIX_RULE = (f"{limits.MIN_IAM_SCOPE_PREFIX} to 27 letters, digits and '-', starting with a letter or digit (the execution "
               "name is appended; the prefix also limits which names the role may create)")
SAGEMAKER_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
GLUE_JOB = re.compile(r"^[\w .-]{1,255}$")
CODEBUILD_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")


def parse_mapping(r: SpecReader, node: yaml.Node, path: str) -> Any:
    """`parse` hook: a mapping passed through verbatim into the ASL (e.g. a SageMaker Create* request)."""
    if not isinstance(node, yaml.MappingNode):
        r.error(node, path, "expected a mapping")
        return MISSING
    before = len(r.problems)
    value = _plain(node, r, path)
    return value if len(r.problems) == before else MISSING


def _plain(node: yaml.Node, r: SpecReader, path: str) -> Any:
    """Node -> plain JSON-able data; dates and other YAML-only types stay the text that was written.

    Text becomes part of the state machine definition, so what the definition cannot hold as
    text is refused: NaN/infinity, control characters, and `${` (Step Functions'
    DefinitionSubstitutions and CloudFormation would substitute it).
    """
    if isinstance(node, yaml.MappingNode):
        result = {}
        for k, v in node.value:
            key = str(k.value)
            _text_ok(k, key, r, f"{path}.{key}")
            result[key] = _plain(v, r, f"{path}.{key}")
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, r, f"{path}[{i}]") for i, v in enumerate(node.value)]
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node)
    except Exception:
        return node.value
    if isinstance(value, float) and not limits.is_finite(value):
        r.error(node, path, f"must be a finite number, got {node.value}")
    if isinstance(value, str):
        _text_ok(node, value, r, path)
    return value if value is None or isinstance(value, (str, int, float, bool)) else node.value


def _text_ok(node: yaml.Node, text: str, r: SpecReader, path: str) -> None:
    if limits.CONTROL.search(text):
        r.error(node, path, "contains a control character or line break; write it on one line")
    elif limits.has_substitution(text):
        r.error(node, path, "contains '${': substitutions are not supported in step parameters (it would be replaced at deploy time)")


def arn(service: str, resource: str) -> str:
    return f"arn:${{AWS::Partition}}:{service}:{REGION_ACCOUNT}:{resource}"


def events_rule(name: str) -> str:
    return arn("events", f"rule/{name}")


def _intrinsic(text: str) -> str:
    """A literal inside an intrinsic-function string (States.Format): \\ ' { } are escaped."""
    for ch in ("\\", "'", "{", "}"):
        text = text.replace(ch, "\\" + ch)
    return text


def execution_scoped(prefix: str) -> str:
    """`<prefix><execution name>`: unique per execution, the same on a retry of the step."""
    return f"States.Format('{_intrinsic(prefix)}{{}}', $$.Execution.Name)"


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement; `resources` are ARN strings (with ${...}) or the alert-topic key."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, Any] | None = None


def pass_role(role_arn: str) -> Statement:
    return Statement(("iam:PassRole",), (role_arn,), {"StringEquals": {"iam:PassedToService": SAGEMAKER}})


def _conflicts(parameters: dict[str, Any], *keys: str) -> list[tuple[str, str]]:
    taken = [k for k in parameters if k.removesuffix(".$") in keys]
    return [("parameters", f"'{k}' is set by mlmon from the step's keys; remove it") for k in taken]


class StepType:
    """Base: a Task calling `resource` with `parameters(p)`, allowed by `statements(p)`."""

    key: ClassVar[str]
    title: ClassVar[str]
    Params: ClassVar[type]
    resource: ClassVar[str] = ""  # Task Resource; "" for steps that call no service
    policy: ClassVar[str] = ""  # key of mlmon_cli.asl.retry_policies.POLICIES
    sync: ClassVar[bool] = False  # waits for a job (.sync): STANDARD workflows only

    def state(self, p: Any) -> dict[str, Any]:
        return {"Type": "Task", "Resource": self.resource, "Parameters": self.parameters(p)}

    def parameters(self, p: Any) -> dict[str, Any]:
        raise NotImplementedError

    def statements(self, p: Any) -> list[Statement]:
        return []

    def check(self, p: Any) -> list[tuple[str, str]]:
        """(key, message) pairs for values the type checks cannot catch."""
        return []


def _optimized(action: str) -> str:
    return f"arn:aws:states:::{action}"


STEP_TYPES: dict[str, StepType] = {}


def step_type(cls: type[StepType]) -> type[StepType]:
    STEP_TYPES[cls.key] = cls()
    return cls


# ----------------------------------------------------------------------------------------- Lambda
@dataclass(frozen=True)
class LambdaParams:
    function_name: str = field(metadata=doc("Function name or ARN (with an optional version or alias)."))
    payload: dict[str, Any] | None = field(
        default=None, metadata=doc("Payload (verbatim ASL, `.$` keys allowed); default: the state input.", parse=parse_mapping))


@step_type
class LambdaInvoke(StepType):
    key, title, Params = "lambda_invoke", "Invoke a Lambda function", LambdaParams
    resource, policy = _optimized("lambda:invoke"), "lambda"

    def parameters(self, p: LambdaParams) -> dict[str, Any]:
        payload = {"Payload": p.payload} if p.payload is not None else {"Payload.$": "$"}
        return {"FunctionName": p.function_name, **payload}

    def statements(self, p: LambdaParams) -> list[Statement]:
        if p.function_name.startswith("arn:"):
            qualified = p.function_name.count(":") == 7  # ...:function:<name>:<version or alias>
            return [Statement(("lambda:InvokeFunction",), (p.function_name,) if qualified else (p.function_name, f"{p.function_name}:*"))]
        fn = arn("lambda", f"function:{p.function_name}")
        return [Statement(("lambda:InvokeFunction",), (fn, f"{fn}:*"))]  # :* allows its versions and aliases

    def check(self, p: LambdaParams) -> list[tuple[str, str]]:
        if not (LAMBDA_NAME.match(p.function_name) or LAMBDA_ARN.match(p.function_name)):
            return [("function_name", "expected a function name or 'arn:aws:lambda:<region>:<account>:function:<name>'")]
        return []


# ------------------------------------------------------------------------------------------- Glue
@dataclass(frozen=True)
class GlueParams:
    job_name: str = field(metadata=doc("Name of the existing Glue job."))
    arguments: dict[str, Any] | None = field(default=None, metadata=doc("Job run arguments, e.g. `--day: '2024-01-31'`.", parse=parse_mapping))


@step_type
class GlueJobRun(StepType):
    key, title, Params = "glue_job_run", "Run a Glue job and wait for it", GlueParams
    resource, policy, sync = _optimized("glue:startJobRun.sync"), "glue", True

    def parameters(self, p: GlueParams) -> dict[str, Any]:
        return {"JobName": p.job_name, **({"Arguments": p.arguments} if p.arguments else {})}

    def statements(self, p: GlueParams) -> list[Statement]:
        actions = ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun")
        return [Statement(actions, (arn("glue", f"job/{p.job_name}"),))]

    def check(self, p: GlueParams) -> list[tuple[str, str]]:
        return [] if GLUE_JOB.match(p.job_name) else [("job_name", "not a Glue job name (letters, digits, ' ', '.', '-', '_')")]


# -------------------------------------------------------------------------------------- SageMaker
@dataclass(frozen=True)
class SageMakerJobParams:
    name_prefix: str = field(metadata=doc("Name of what is created = prefix + execution name (at most 27 characters)."))
    role_arn: str = field(metadata=doc("Role SageMaker assumes (RoleArn / ExecutionRoleArn; iam:PassRole only to SageMaker)."))
    parameters: dict[str, Any] = field(metadata=doc("The rest of the Create* request, verbatim ASL (`.$` keys allowed).", parse=parse_mapping))


@dataclass(frozen=True)
class SageMakerNoRoleParams:
    name_prefix: str = field(metadata=doc("Name of what is created = prefix + execution name (at most 27 characters)."))
    parameters: dict[str, Any] = field(metadata=doc("The rest of the Create* request, verbatim ASL (`.$` keys allowed).", parse=parse_mapping))


class SageMakerJob(StepType):
    """A SageMaker job started and waited for (.sync): Step Functions watches it via a managed rule."""

    api: ClassVar[str]  # TrainingJob, ProcessingJob, TransformJob
    arn_type: ClassVar[str]
    rule: ClassVar[str]
    policy, sync = "sagemaker", True

    def parameters(self, p: Any) -> dict[str, Any]:
        role = {"RoleArn": p.role_arn} if hasattr(p, "role_arn") else {}
        return {f"{self.api}Name.$": execution_scoped(p.name_prefix), **role, **p.parameters}

    def statements(self, p: Any) -> list[Statement]:
        job = (arn("sagemaker", f"{self.arn_type}/{p.name_prefix.lower()}*"),)  # SageMaker ARNs are lower case
        found = [
            Statement((f"sagemaker:Create{self.api}", f"sagemaker:Describe{self.api}", f"sagemaker:Stop{self.api}"), job),
            Statement(("sagemaker:AddTags", "sagemaker:ListTags"), job),
            Statement(("events:PutTargets", "events:PutRule", "events:DescribeRule"), (events_rule(self.rule),)),
        ]
        return found + ([pass_role(p.role_arn)] if hasattr(p, "role_arn") else [])

    def check(self, p: Any) -> list[tuple[str, str]]:
        return _sagemaker_checks(p, f"{self.api}Name", "RoleArn")


def _sagemaker_checks(p: Any, *own_keys: str) -> list[tuple[str, str]]:
    found = [] if SAGEMAKER_PREFIX.match(p.name_prefix) else [
        ("name_prefix", PREFIX_RULE)]
    if hasattr(p, "role_arn") and not ROLE_ARN.match(p.role_arn):
        found.append(("role_arn", "expected 'arn:aws:iam::<account>:role/<name>'"))
    return found + _conflicts(p.parameters, *own_keys)


@step_type
class SageMakerTraining(SageMakerJob):
    key, title, Params = "sagemaker_training", "Run a SageMaker training job and wait for it", SageMakerJobParams
    resource, api, arn_type = _optimized("sagemaker:createTrainingJob.sync"), "TrainingJob", "training-job"
    rule = "StepFunctionsGetEventsForSageMakerTrainingJobsRule"


@step_type
class SageMakerProcessing(SageMakerJob):
    key, title, Params = "sagemaker_processing", "Run a SageMaker processing job and wait for it", SageMakerJobParams
    resource, api, arn_type = _optimized("sagemaker:createProcessingJob.sync"), "ProcessingJob", "processing-job"
    rule = "StepFunctionsGetEventsForSageMakerProcessingJobsRule"


@step_type
class SageMakerTransform(SageMakerJob):
    key, title, Params = "sagemaker_transform", "Run a SageMaker batch transform job and wait for it", SageMakerNoRoleParams
    resource, api, arn_type = _optimized("sagemaker:createTransformJob.sync"), "TransformJob", "transform-job"
    rule = "StepFunctionsGetEventsForSageMakerTransformJobsRule"


@step_type
class SageMakerCreateModel(StepType):
    key, title, Params = "sagemaker_create_model", "Create a SageMaker model", SageMakerJobParams
    resource, policy = _optimized("sagemaker:createModel"), "sagemaker"

    def parameters(self, p: SageMakerJobParams) -> dict[str, Any]:
        return {"ModelName.$": execution_scoped(p.name_prefix), "ExecutionRoleArn": p.role_arn, **p.parameters}

    def statements(self, p: SageMakerJobParams) -> list[Statement]:
        model = (arn("sagemaker", f"model/{p.name_prefix.lower()}*"),)
        return [Statement(("sagemaker:CreateModel",), model), Statement(("sagemaker:AddTags", "sagemaker:ListTags"), model),
                pass_role(p.role_arn)]

    def check(self, p: SageMakerJobParams) -> list[tuple[str, str]]:
        return _sagemaker_checks(p, "ModelName", "ExecutionRoleArn")


@step_type
class SageMakerCreateEndpointConfig(StepType):
    key, title, Params = "sagemaker_create_endpoint_config", "Create a SageMaker endpoint configuration", SageMakerNoRoleParams
    resource, policy = _optimized("sagemaker:createEndpointConfig"), "sagemaker"

    def parameters(self, p: SageMakerNoRoleParams) -> dict[str, Any]:
        return {"EndpointConfigName.$": execution_scoped(p.name_prefix), **p.parameters}

    def statements(self, p: SageMakerNoRoleParams) -> list[Statement]:
        config = (arn("sagemaker", f"endpoint-config/{p.name_prefix.lower()}*"),)
        return [Statement(("sagemaker:CreateEndpointConfig",), config), Statement(("sagemaker:AddTags", "sagemaker:ListTags"), config)]

    def check(self, p: SageMakerNoRoleParams) -> list[tuple[str, str]]:
        return _sagemaker_checks(p, "EndpointConfigName")


@dataclass(frozen=True)
class UpdateEndpointParams:
    endpoint_name: str = field(metadata=doc("Name of the existing endpoint."))
    endpoint_config_name: str | None = field(default=None, metadata=doc("A fixed endpoint configuration (e.g. the stable one, to revert)."))
    endpoint_config_name_prefix: str | None = field(
        default=None, metadata=doc("Or the configuration this execution created: prefix + execution name."))


@step_type
class SageMakerUpdateEndpoint(StepType):
    """Request/response: the update continues after the step; the sagemaker_endpoint kind alarms on a failed one."""

    key, title, Params = "sagemaker_update_endpoint", "Point a SageMaker endpoint at another configuration", UpdateEndpointParams
    resource, policy = _optimized("sagemaker:updateEndpoint"), "sagemaker"

    def parameters(self, p: UpdateEndpointParams) -> dict[str, Any]:
        if p.endpoint_config_name is not None:
            return {"EndpointName": p.endpoint_name, "EndpointConfigName": p.endpoint_config_name}
        return {"EndpointName": p.endpoint_name, "EndpointConfigName.$": execution_scoped(p.endpoint_config_name_prefix or "")}

    def statements(self, p: UpdateEndpointParams) -> list[Statement]:
        config = (p.endpoint_config_name or f"{p.endpoint_config_name_prefix}*").lower()
        resources = (arn("sagemaker", f"endpoint/{p.endpoint_name.lower()}"), arn("sagemaker", f"endpoint-config/{config}"))
        return [Statement(("sagemaker:UpdateEndpoint",), resources)]

    def check(self, p: UpdateEndpointParams) -> list[tuple[str, str]]:
        if (p.endpoint_config_name is None) == (p.endpoint_config_name_prefix is None):
            return [("", "give exactly one of 'endpoint_config_name' or 'endpoint_config_name_prefix'")]
        found = [] if SAGEMAKER_NAME.match(p.endpoint_name) else [("endpoint_name", "not a SageMaker endpoint name")]
        if p.endpoint_config_name is not None and not SAGEMAKER_NAME.match(p.endpoint_config_name):
            found.append(("endpoint_config_name", "not a SageMaker endpoint configuration name"))
        if p.endpoint_config_name_prefix is not None and not SAGEMAKER_PREFIX.match(p.endpoint_config_name_prefix):
            found.append(("endpoint_config_name_prefix", PREFIX_RULE))
        return found


# -------------------------------------------------------------------------------------- CodeBuild
@dataclass(frozen=True)
class CodeBuildParams:
    project_name: str = field(metadata=doc("Name of the existing CodeBuild project."))
    parameters: dict[str, Any] | None = field(
        default=None, metadata=doc("More StartBuild fields (e.g. EnvironmentVariablesOverride), verbatim ASL.", parse=parse_mapping))


@step_type
class CodeBuildBuild(StepType):
    key, title, Params = "codebuild_build", "Run a CodeBuild build and wait for it", CodeBuildParams
    resource, policy, sync = _optimized("codebuild:startBuild.sync"), "codebuild", True

    def parameters(self, p: CodeBuildParams) -> dict[str, Any]:
        return {"ProjectName": p.project_name, **(p.parameters or {})}

    def statements(self, p: CodeBuildParams) -> list[Statement]:
        project = (arn("codebuild", f"project/{p.project_name}"),)
        rule = (events_rule("StepFunctionsGetEventForCodeBuildStartBuildRule"),)  # singular "Event" (facts §3.3)
        return [Statement(("codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"), project),
                Statement(("events:PutTargets", "events:PutRule", "events:DescribeRule"), rule)]

    def check(self, p: CodeBuildParams) -> list[tuple[str, str]]:
        found = [] if CODEBUILD_PROJECT.match(p.project_name) else [("project_name", "not a CodeBuild project name")]
        return found + _conflicts(p.parameters or {}, "ProjectName")


# -------------------------------------------------------------------------------------------- SNS
@dataclass(frozen=True)
class SnsParams:
    message: str = field(metadata=doc("Message text."))
    subject: str | None = field(default=None, metadata=doc("Subject (email), at most 100 printable ASCII characters."))
    topic_arn: str | None = field(default=None, metadata=doc("Topic; default: the solution's alert topic."))


@step_type
class SnsPublish(StepType):
    key, title, Params = "sns_publish", "Publish a message to an SNS topic", SnsParams
    resource, policy = _optimized("sns:publish"), "sns"

    def parameters(self, p: SnsParams) -> dict[str, Any]:
        subject = {"Subject": p.subject} if p.subject else {}
        return {"TopicArn": p.topic_arn or ALERT_TOPIC, **subject, "Message": p.message}

    def statements(self, p: SnsParams) -> list[Statement]:
        return [Statement(("sns:Publish",), (p.topic_arn or ALERT_TOPIC,))]

    def check(self, p: SnsParams) -> list[tuple[str, str]]:
        found = []
        if p.topic_arn is not None and not TOPIC_ARN.match(p.topic_arn):
            found.append(("topic_arn", "expected 'arn:aws:sns:<region>:<account>:<name>'"))
        if p.subject is not None and (len(p.subject) > 100 or any(not 32 <= ord(c) < 127 for c in p.subject)):
            found.append(("subject", "at most 100 printable ASCII characters"))
        return found


# ------------------------------------------------------------------------------------------- Wait
@dataclass(frozen=True)
class WaitParams:
    seconds: int = field(metadata=doc("Seconds to wait.", unit="s", minimum=1, maximum=31_536_000))


@step_type
class Wait(StepType):
    key, title, Params = "wait", "Wait a fixed time", WaitParams

    def state(self, p: WaitParams) -> dict[str, Any]:
        return {"Type": "Wait", "Seconds": p.seconds}
