"""Task ``Resource`` -> transient errors worth retrying, with default retrier parameters.

Why a table: which errors are *transient* depends on the integration behind a Task, and the
error names follow rules that are easy to get wrong by hand.  Every default below names its source.

Sources (tags reused from ``../shared/reference/aws-monitoring-facts.md`` (beside the clone) §0):

* [BP-LAMBDA]  AWS Step Functions best practice "Handle Lambda service exceptions"
  (docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html): retry
  ``Lambda.ServiceException``, ``Lambda.AWSLambdaException``, ``Lambda.SdkClientException``
  (current page adds ``Lambda.ClientExecutionTimeoutException``) with IntervalSeconds 2,
  MaxAttempts 6, BackoffRate 2.  Facts §3.2.
* [WFS-LAMBDA] Workflow Studio default retrier for ``lambda:invoke`` adds
  ``Lambda.TooManyRequestsException`` (facts §3.2; seen in corpus a12/a13/a14 definitions).
* [SFN-SAGEMAKER] AWS ``connect-sagemaker`` example: ``SageMaker.AmazonSageMakerException`` and
  ``SageMaker.ResourceLimitExceededException`` (facts §3.1/§3.2).  AWS retries them 100x/5000x;
  mlmon uses smaller, bounded defaults.
* [FACTS-GLUE]  ``Glue.AWSGlueException`` (throttling surfaces as this, cause "Rate exceeded"),
  ``Glue.ConcurrentRunsExceededException``, ``Glue.InternalServiceException`` (facts §3.1).
* [SFN-ERRORS] "Handling errors in Step Functions workflows" (concepts-error-handling):
  ``States.Http.Socket``, ``States.Timeout``.
* [SFN-AWSSDK] "AWS SDK service integrations" page: errors of ``arn:aws:states:::aws-sdk:svc:api``
  tasks are ``<ServiceName>.<ErrorName>`` in PascalCase, always with an ``Exception`` suffix
  (doc examples ``AcmPca.ResourceNotFoundException``, ``S3.BucketAlreadyExistsException``).
  The PascalCase prefix is the AWS SDK for Java v2 client prefix (``DynamoDb``, ``Sfn`` also used
  by the moto/LocalStack emulator, ``Glue.GlueException`` used in corpus a03).  Un-modelled
  service errors (throttling, HTTP 5xx) surface as the SDK base class ``<Svc>.<Svc>Exception``.
* [BOTOCORE] botocore 1.43.11 service models: the modelled exception shapes whose names denote
  throttling / 5xx (Throttling*, InternalServer*, ServiceUnavailable*, ProvisionedThroughput...).
* [EMULATOR] moto 5.2.1 / LocalStack Step Functions emulator error naming
  (``moto/stepfunctions/parser/asl/component/state/exec/state_task/service/*.py``), which mirrors
  AWS: ``SNS.<Code>Exception``, ``DynamoDB.AmazonDynamoDBException``, ``SQS.AmazonSQSException``,
  ``SQS.SdkClientException``, ``StepFunctions.<Code>Exception``, ``EventBridge.FailedEntry``.
* [SDKV1] Optimized integrations report un-modelled errors with the AWS SDK for Java v1 base class
  name (``Lambda.AWSLambdaException``, ``SageMaker.AmazonSageMakerException``,
  ``Glue.AWSGlueException`` above); the same rule gives ``CodeBuild.AWSCodeBuildException``,
  ``ECS.AmazonECSException``, ``Batch.AWSBatchException`` (also seen in public definitions) -
  **[unverified against an AWS page]**.
* [MLMON] mlmon defaults: ``MaxDelaySeconds`` caps exponential backoff so a retrier never sleeps
  longer than a minute or two; ``JitterStrategy: FULL`` spreads retries of parallel executions
  (retrier field semantics: facts §3.2).

Unknown integrations get :data:`GENERIC` (``States.Timeout`` only), chosen to do no harm: retrying
``States.TaskFailed`` would re-run non-idempotent work and re-ask humans in ``.waitForTaskToken``
tasks on *business* errors.  A Resource that is only a ``${...}`` placeholder gets the Lambda
retrier: a bare (non ``arn:aws:states:::``) Task Resource can only be a Lambda function ARN or an
Activity ARN, and Lambda error names never match an Activity's errors, so they are harmless there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GENERIC", "POLICIES", "Retrier", "RetryPolicy", "classify_resource", "policy_for_resource"]


@dataclass(frozen=True)
class Retrier:
    """One ASL retrier; ``to_asl`` renders it with fields in the conventional order."""

    error_equals: tuple[str, ...]
    interval_seconds: int
    max_attempts: int
    backoff_rate: float
    max_delay_seconds: int
    jitter_strategy: str = "FULL"

    def to_asl(self, drop: frozenset[str] = frozenset()) -> dict | None:
        """ASL dict, without error names in ``drop``; None when nothing is left to retry."""
        errors = [e for e in self.error_equals if e not in drop]
        if not errors:
            return None
        return {
            "ErrorEquals": errors,
            "IntervalSeconds": self.interval_seconds,
            "MaxAttempts": self.max_attempts,
            "BackoffRate": self.backoff_rate,
            "MaxDelaySeconds": self.max_delay_seconds,
            "JitterStrategy": self.jitter_strategy,
        }


@dataclass(frozen=True)
class RetryPolicy:
    """The retriers for one integration and where their defaults come from."""

    name: str
    retriers: tuple[Retrier, ...]
    source: str

    def to_asl(self, drop: frozenset[str] = frozenset()) -> list[dict]:
        """ASL ``Retry`` list, skipping error names the Task's own Catch handles explicitly."""
        return [r for r in (x.to_asl(drop) for x in self.retriers) if r is not None]


def _r(errors: list[str], interval: int = 2, attempts: int = 6, backoff: float = 2, max_delay: int = 60) -> Retrier:
    return Retrier(tuple(errors), interval, attempts, backoff, max_delay)


LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]

GENERIC = RetryPolicy(
    "generic",
    (_r(["States.Timeout"], interval=5, attempts=2, max_delay=60),),
    "[MLMON] integration not recognised: retry only States.Timeout (do-no-harm); review",
)

# Optimized integrations: key = <service> in arn:<partition>:states:::<service>:<action>
POLICIES: dict[str, RetryPolicy] = {
    "lambda": RetryPolicy("lambda", (_r(LAMBDA_ERRORS),), "[BP-LAMBDA] 2s x6 backoff 2 + [WFS-LAMBDA] + [MLMON] cap 60s, FULL jitter"),
    "sagemaker": RetryPolicy(
        "sagemaker",
        (
            _r(["SageMaker.AmazonSageMakerException"], interval=2, attempts=6, max_delay=60),
            _r(["SageMaker.ResourceLimitExceededException"], interval=60, attempts=20, backoff=1, max_delay=120),
        ),
        "[SFN-SAGEMAKER] error names; [MLMON] bounded attempts (AWS example uses 100x / 5000x)",
    ),
    "glue": RetryPolicy(
        "glue",
        (
            _r(["Glue.AWSGlueException", "Glue.InternalServiceException"]),
            _r(["Glue.ConcurrentRunsExceededException"], interval=60, attempts=10, backoff=1, max_delay=120),
        ),
        "[FACTS-GLUE] error names; [MLMON] parameters",
    ),
    "codebuild": RetryPolicy(
        "codebuild",
        (_r(["CodeBuild.AWSCodeBuildException", "CodeBuild.AccountLimitExceededException"], interval=5, attempts=5),),
        "[SDKV1] [unverified] names; [MLMON] parameters",
    ),
    "sns": RetryPolicy(
        "sns",
        (_r(["SNS.InternalErrorException", "SNS.KMSThrottlingException", "SNS.ThrottledException",
             "SNS.AmazonSNSException", "SNS.SdkClientException"], interval=1, attempts=5, max_delay=30),),
        "[BOTOCORE] sns Publish errors + [EMULATOR] SNS.<Code>Exception naming + [SDKV1] base class; [MLMON] parameters",
    ),
    "sqs": RetryPolicy(
        "sqs",
        (_r(["SQS.AmazonSQSException", "SQS.SdkClientException"], interval=1, attempts=5, max_delay=30),),
        "[EMULATOR] names; [MLMON] parameters",
    ),
    "ecs": RetryPolicy(
        "ecs",
        (_r(["ECS.AmazonECSException", "ECS.ServerException"], interval=5, attempts=5),),
        "[SDKV1] [unverified] + [BOTOCORE] ServerException; [MLMON] parameters",
    ),
    "batch": RetryPolicy(
        "batch",
        (_r(["Batch.AWSBatchException", "Batch.ServerException"], interval=5, attempts=5),),
        "[SDKV1] [unverified] + [BOTOCORE]/[EMULATOR] Batch.ServerException; [MLMON] parameters",
    ),
    "dynamodb": RetryPolicy(
        "dynamodb",
        (_r(["DynamoDB.AmazonDynamoDBException", "DynamoDB.ProvisionedThroughputExceededException",
             "DynamoDB.RequestLimitExceededException", "DynamoDB.InternalServerErrorException",
             "DynamoDB.ThrottlingException"], interval=1, attempts=6, max_delay=30),),
        "[EMULATOR] DynamoDB.AmazonDynamoDBException + [BOTOCORE] modelled throttling/5xx; [MLMON] parameters",
    ),
    "bedrock": RetryPolicy(
        "bedrock",
        (_r(["Bedrock.ThrottlingException", "Bedrock.ServiceUnavailableException", "Bedrock.InternalServerException",
             "Bedrock.ModelNotReadyException", "Bedrock.ModelTimeoutException"], interval=2, attempts=5),),
        "[BOTOCORE] bedrock/bedrock-runtime modelled errors + [SFN-AWSSDK] naming; [MLMON] parameters",
    ),
    "http": RetryPolicy(
        "http",
        (_r(["States.Http.Socket", "States.Http.StatusCode.429", "States.Http.StatusCode.500",
             "States.Http.StatusCode.502", "States.Http.StatusCode.503", "States.Http.StatusCode.504"],
            interval=2, attempts=4),),
        "[SFN-ERRORS] States.Http.Socket + HTTP Task status-code errors; [MLMON] parameters",
    ),
    "states": RetryPolicy(
        "stepfunctions",
        (_r(["StepFunctions.AWSStepFunctionsException", "StepFunctions.SdkClientException"], interval=2, attempts=5),),
        "[EMULATOR] StepFunctions.<Code>Exception naming + [SDKV1] [unverified]; [MLMON] parameters",
    ),
    "events": RetryPolicy(
        "eventbridge",
        (_r(["EventBridge.AmazonEventBridgeException", "EventBridge.InternalException", "EventBridge.FailedEntry"],
            interval=1, attempts=4, max_delay=30),),
        "[EMULATOR] EventBridge.FailedEntry + [SDKV1] [unverified]; [MLMON] parameters",
    ),
}

# aws-sdk integrations: lower-case service id in the Resource -> (SDK v2 prefix, modelled transient errors)
# Transient names from [BOTOCORE]; an "Exception" suffix is appended where missing ([SFN-AWSSDK]).
AWS_SDK_SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "s3": ("S3", ()),
    "dynamodb": ("DynamoDb", ("InternalServerError", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException")),
    "sagemaker": ("SageMaker", ()),
    "glue": ("Glue", ("InternalServerException", "InternalServiceException", "ThrottlingException")),
    "bedrock": ("Bedrock", ("InternalServerException", "ServiceUnavailableException", "ThrottlingException")),
    "bedrockagent": ("BedrockAgent", ("InternalServerException", "ThrottlingException")),
    "bedrockruntime": ("BedrockRuntime", ("InternalServerException", "ServiceUnavailableException", "ThrottlingException")),
    "rekognition": ("Rekognition", ("InternalServerError", "ProvisionedThroughputExceededException", "ThrottlingException")),
    "transcribe": ("Transcribe", ("InternalFailureException",)),
    "cloudwatch": ("CloudWatch", ("InternalServiceFault",)),
    "ssm": ("Ssm", ("InternalServerError", "ThrottlingException")),
    "forecast": ("Forecast", ()),
    "personalize": ("Personalize", ()),
    "sfn": ("Sfn", ()),
    "lambda": ("Lambda", ("ServiceException", "TooManyRequestsException")),
    "sns": ("Sns", ("InternalErrorException", "KMSThrottlingException", "ThrottledException")),
    "sqs": ("Sqs", ("RequestThrottled",)),
    "ecs": ("Ecs", ("ServerException",)),
    "batch": ("Batch", ("ServerException",)),
    "athena": ("Athena", ("InternalServerException", "TooManyRequestsException")),
    "eventbridge": ("EventBridge", ("ThrottlingException",)),
    "comprehend": ("Comprehend", ("InternalServerException", "TooManyRequestsException")),
    "textract": ("Textract", ("InternalServerError", "ProvisionedThroughputExceededException", "ThrottlingException")),
    "translate": ("Translate", ("InternalServerException", "ServiceUnavailableException", "TooManyRequestsException")),
    "kinesis": ("Kinesis", ("InternalFailureException", "ProvisionedThroughputExceededException")),
    "firehose": ("Firehose", ("ServiceUnavailableException",)),
    "emr": ("Emr", ("InternalServerError", "InternalServerException")),
    "codebuild": ("CodeBuild", ()),
    "ecr": ("Ecr", ("ServerException",)),
    "secretsmanager": ("SecretsManager", ("InternalServiceError",)),
}

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_OPTIMIZED = re.compile(r"^arn:[^:]+:states:::(?P<svc>[a-z0-9-]+):(?P<rest>.+)$")
_AWS_SDK = re.compile(r"^arn:[^:]+:states:::aws-sdk:(?P<svc>[a-z0-9]+):(?P<api>[A-Za-z0-9]+)")
_LAMBDA_FN = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:.+")
_ACTIVITY = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:.+")


def classify_resource(resource: object) -> tuple[str, str | None]:
    """Return (kind, service): kind is optimized|aws-sdk|lambda-arn|activity|placeholder|unknown."""
    if not isinstance(resource, str) or not resource:
        return "unknown", None
    if _PLACEHOLDER.fullmatch(resource.strip()):
        return "placeholder", None
    text = _PLACEHOLDER.sub("x", resource)  # arn:${AWS::Partition}:states:::... must still parse
    if m := _AWS_SDK.match(text):
        return "aws-sdk", m.group("svc")
    if m := _OPTIMIZED.match(text):
        return "optimized", m.group("svc")
    if _LAMBDA_FN.match(text):
        return "lambda-arn", "lambda"
    if _ACTIVITY.match(text):
        return "activity", None
    return "unknown", None


def _with_suffix(name: str) -> str:
    return name if name.endswith("Exception") else name + "Exception"


def _aws_sdk_policy(service: str) -> RetryPolicy:
    """Base SDK exception + client exception + modelled throttling/5xx errors of one service."""
    prefix, extra = AWS_SDK_SERVICES[service]
    names = [f"{prefix}.{prefix}Exception", f"{prefix}.SdkClientException"]
    names += [f"{prefix}.{_with_suffix(e)}" for e in extra]
    retrier = _r(names, interval=2, attempts=4, max_delay=30)
    return RetryPolicy(f"aws-sdk:{service}", (retrier,), "[SFN-AWSSDK] naming + [BOTOCORE] transient errors; [MLMON] parameters")


def policy_for_resource(resource: object) -> RetryPolicy:
    """Pick the retry policy for a Task ``Resource``; unknown integrations get :data:`GENERIC`."""
    kind, service = classify_resource(resource)
    if kind in ("placeholder", "lambda-arn"):
        return POLICIES["lambda"]
    if kind == "aws-sdk" and service in AWS_SDK_SERVICES:
        return _aws_sdk_policy(service)
    if kind == "optimized" and service in POLICIES:
        return POLICIES[service]
    return GENERIC
