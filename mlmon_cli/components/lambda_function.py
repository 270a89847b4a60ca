"""AWS Lambda function alarms.

Metrics: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html
Recommended alarms: CloudWatch "Best practice alarm recommendations" (AWS/Lambda).
Logs: `/aws/lambda/<function>`; besides the generic saved queries, "Latest failures" shows the
request ID and "Slowest invocations" reads the REPORT lines (duration, billed duration, memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..spec.app_template import mapping
from ..spec.logs import FAILURE_REGEX
from ..spec.model import doc
from . import component
from .base import (
    AWS_RECOMMENDED,
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AlarmTarget,
    Binding,
    Component,
    Inventory,
    Metric,
    NameOption,
    TemplateResource,
)

NAMESPACE = "AWS/Lambda"

# Share of the timeout used as the Duration p90 threshold when only the timeout is known:
# AWS recommends a threshold "below the function timeout"; 80 % leaves time to react.
DURATION_SHARE_OF_TIMEOUT = 0.8
DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor SAM Globals set Timeout (Lambda's default)


@dataclass(frozen=True)
class LambdaOptions:
    function_name: str = field(metadata=doc("Name of the existing Lambda function (the FunctionName dimension)."))
    timeout_seconds: int | None = field(
        default=None,
        metadata=doc("The function's configured timeout; derives the Duration p90 threshold (80 % of it).", unit="s", minimum=1, maximum=900),
    )


@component("lambda")
class LambdaFunction(Component[LambdaOptions]):
    Options = LambdaOptions
    title = "AWS Lambda function"
    docs_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html"
    inventory = Inventory("Lambda functions", "function_name", "lambda", "list_functions", "Functions", name="FunctionName", arn="FunctionArn")
    dimension_names = ("FunctionName",)
    names: ClassVar[Mapping[str, NameOption]] = {
        "function_name": NameOption(r"[A-Za-z0-9_-]{1,64}", "a Lambda function name: at most 64 letters, digits, '-' and '_'",
                                    "the function name (the part after ':function:')"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref of both returns the function name; a stack's physical ID is the name too
        "AWS::Lambda::Function": Binding({"function_name": "${%s}"}, physical="function_name"),
        "AWS::Serverless::Function": Binding({"function_name": "${%s}"}),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::Lambda::Version": "the function is watched (its metrics include every version)",
        "AWS::Lambda::Permission": "a permission, nothing runs",
    }
    alarms = (
        AlarmDef(
            "errors", "Errors",
            Metric(NAMESPACE, "Errors", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="invocations that ended in a function error (including timeouts). AWS recommends Sum > 0 over "
                    "3 of 3 one-minute periods; mlmon alarms on the first error because ML batch functions run rarely",
                first_step="open the function's latest log streams and look for the exception or 'Task timed out'",
                source=AWS_RECOMMENDED),
        ),
        AlarmDef(
            "throttles", "Throttles",
            Metric(NAMESPACE, "Throttles", "Sum"),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
            AlarmDocs(
                why="invocations rejected for lack of concurrency (not counted in Errors)",
                first_step="check reserved concurrency and the account's concurrent-executions quota",
                source=AWS_RECOMMENDED),
        ),
        AlarmDef(
            "duration_p90", "DurationP90",
            Metric(NAMESPACE, "Duration", "p90", "ms"),
            AlarmPolicy(">", None, period=300, evaluation_periods=3, datapoints_to_alarm=2, severity="warning"),
            AlarmDocs(
                why="the slowest 10 % of invocations are nearing the timeout, after which they fail",
                first_step="compare recent durations with the timeout and look for slow downstream calls",
                source=AWS_RECOMMENDED),
        ),
        AlarmDef(
            "concurrent_executions", "ConcurrentExecutions",
            Metric(NAMESPACE, "ConcurrentExecutions", "Maximum"),
            AlarmPolicy(">", 900, period=60, evaluation_periods=10, datapoints_to_alarm=10, severity="warning", enabled=False),
            AlarmDocs(
                why="concurrency is close to the Region quota (default 1,000; AWS suggests ~90 % of it), after which "
                    "invocations throttle",
                first_step="check which functions consume concurrency and request a quota increase if needed",
                source=AWS_RECOMMENDED),
        ),
    )

    def watched(self, o: LambdaOptions) -> str:
        return f"Lambda function {o.function_name}"

    def targets(self, o: LambdaOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"FunctionName": o.function_name})]

    def log_group(self, o: LambdaOptions) -> str | None:
        return f"/aws/lambda/{o.function_name}"

    def log_queries(self, o: LambdaOptions) -> dict[str, str]:
        return {
            "Latest failures": (
                "fields @timestamp, @requestId, @logStream, @message\n"
                f"| filter @message like {FAILURE_REGEX}\n"
                "| sort @timestamp desc\n"
                "| limit 50"
            ),
            "Slowest invocations": (
                'filter @type = "REPORT"\n'
                "| fields @timestamp, @requestId, @duration, @billedDuration, @maxMemoryUsed, @memorySize\n"
                "| sort @duration desc\n"
                "| limit 20"
            ),
        }

    def default_threshold(self, o: LambdaOptions, alarm: AlarmDef) -> float | None:
        if alarm.key == "duration_p90" and o.timeout_seconds is not None:
            return round(o.timeout_seconds * 1000 * DURATION_SHARE_OF_TIMEOUT, 3)
        return alarm.policy.threshold

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        return cls._timeout_lines(resource) + _implicit_rules(resource)

    @classmethod
    def _timeout_lines(cls, resource: TemplateResource) -> list[str]:
        timeout, where = resource.properties.get("Timeout"), ""
        if timeout is None and resource.type == "AWS::Serverless::Function":
            timeout = mapping(mapping(resource.app.data.get("Globals")).get("Function")).get("Timeout")
            where = "from SAM Globals" if timeout is not None else ""
        if timeout is None:
            return [f"    timeout_seconds: {DEFAULT_TIMEOUT}        # Lambda's default timeout; Duration p90 alarm at 80 %"]
        if isinstance(timeout, int) and 1 <= timeout <= 900:
            note = f"{where}; " if where else ""
            return [f"    timeout_seconds: {timeout}        # {note}Duration p90 alarm at 80 % of it"]
        return ["    # timeout: set by a parameter or expression; give timeout_seconds for the Duration p90 alarm",
                "    alarms: {duration_p90: false}"]


# SAM function events that become an AWS::Events::Rule named <Function><Event> (samtranslator
# sam_resources.py: `from_dict(lambda_function.logical_id + logical_id, ...)`; eventsources/push.py).
SAM_RULE_EVENTS = ("Schedule", "CloudWatchEvent", "EventBridgeRule")


def _implicit_rules(resource: TemplateResource) -> list[str]:
    """A comment per SAM event that makes a rule: it exists only after the transform, so a
    template's spec cannot name it (`init --from-stack` reads the deployed stack and watches it)."""
    events = resource.properties.get("Events") if resource.type == "AWS::Serverless::Function" else None
    made = [f"{resource.logical}{name}" for name, event in (events or {}).items()
            if isinstance(event, dict) and event.get("Type") in SAM_RULE_EVENTS] if isinstance(events, dict) else []
    return [f"    # SAM makes rule {rule} from its event after the transform: not watched here (init --from-stack "
            "watches its FailedInvocations)" for rule in made]
