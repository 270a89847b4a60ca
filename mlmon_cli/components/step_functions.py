"""AWS Step Functions state machine alarms (execution metrics, dimension StateMachineArn).

Metrics: https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
Events:  https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html ('Step Functions
Execution Status Change', Standard workflows only; detail mirrors DescribeExecution).
`expect_success_within_hours` alarms when ExecutionsSucceeded stayed below 1 for that many
hourly periods (missing data breaching). No log group unless the spec gives `log_group`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..limits import STATE_MACHINE_NAME_MAX
from ..spec.model import doc
from . import _staleness, component
from .base import (
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AlarmTarget,
    Binding,
    BuildEnv,
    Component,
    EventDef,
    ExtraAlarm,
    Inventory,
    Metric,
    NameOption,
    TemplateResource,
    event_alarm,
)

NAMESPACE = "AWS/States"

EXECUTION_STATUS_CHANGE = EventDef(
    source="aws.states",
    detail_type="Step Functions Execution Status Change",
    status_field="status",
    failure_statuses=("FAILED", "TIMED_OUT", "ABORTED"),
    message_template="step_functions_state_change.txt.j2",
    input_paths={
        "execution": "$.detail.executionArn",
        "name": "$.detail.name",
        "status": "$.detail.status",
        "error": "$.detail.error",
        "cause": "$.detail.cause",
        "region": "$.region",
    },
)


_SFN_FORBIDDEN = r"\s<>{}\[\]?*\"#%\\^|~`$&,;:/"  # CreateStateMachine's name rules
STATE_MACHINE_NAME = NameOption(rf"[^{_SFN_FORBIDDEN}\x00-\x1f\x7f-\x9f]{{1,{STATE_MACHINE_NAME_MAX}}}",
                                "a state machine name: at most 80 characters, no spaces, brackets, wildcards or "
                                "\" # % \\ ^ | ~ ` $ & , ; : /", "`state_machine_arn`")
STATE_MACHINE_ARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${%s.Name}"


@dataclass(frozen=True)
class StepFunctionsOptions:
    state_machine_arn: str | None = field(default=None, metadata=doc("ARN of the existing state machine."))
    state_machine_name: str | None = field(
        default=None, metadata=doc("Name of the state machine in the stack's account and Region (the ARN is built from it).")
    )
    expect_success_within_hours: int | None = _staleness.option("execution")


ANY_IN_FIVE_MINUTES = AlarmPolicy(">=", 1, period=300)


def _count(key: str, suffix: str, metric: str, why: str, first_step: str) -> AlarmDef:
    """An execution-count metric that alarms on its first datapoint."""
    return AlarmDef(key, suffix, Metric(NAMESPACE, metric, "Sum"), ANY_IN_FIVE_MINUTES, AlarmDocs(why, first_step))


# The execution metrics alone (a generated `workflow` notifies on failure itself, so it needs no rule).
METRIC_ALARMS = (
    _count("executions_failed", "ExecutionsFailed", "ExecutionsFailed",
           "executions that ended FAILED: a step raised an error no Catch handled, or a Fail state was reached "
           "(as mlmon's notify-and-fail fallback does after alerting)",
           "open the failed execution in the console and read the first failed state's error and cause"),
    _count("executions_timed_out", "ExecutionsTimedOut", "ExecutionsTimedOut",
           "executions that exceeded the state machine's TimeoutSeconds",
           "find the step that was still running and check the job or service it waited on"),
    _count("executions_aborted", "ExecutionsAborted", "ExecutionsAborted",
           "executions that were stopped before finishing (manually or by a deployment)",
           "check CloudTrail StopExecution calls to see who or what stopped it"),
    _count("executions_throttled", "ExecutionThrottled", "ExecutionThrottled",
           "StateEntered events and retries of its executions were throttled (Step Functions' state-transition "
           "quota, shared by every state machine of the account in the Region; StartExecution calls refused with "
           "ThrottlingException are not counted here)",
           "graph AWS/States ThrottledEvents and ConsumedCapacity (dimension ServiceMetric=StateTransition) and "
           "request a higher StateTransition quota or slow the busiest state machines"),
)


@component("step_functions")
class StepFunctions(Component[StepFunctionsOptions]):
    Options = StepFunctionsOptions
    title = "AWS Step Functions state machine"
    docs_url = "https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html"
    inventory = Inventory("Step Functions state machines", "state_machine_arn", "stepfunctions", "list_state_machines", "stateMachines",
                          name="name", arn="stateMachineArn", option_value="arn")
    dimension_names = ("StateMachineArn",)
    names: ClassVar[Mapping[str, NameOption]] = {"state_machine_arn": NameOption(holds_arn=True), "state_machine_name": STATE_MACHINE_NAME}
    # Ref returns the ARN, GetAtt Name the name; the ARN is built from the name (it also works before creation).
    bindings: ClassVar[Mapping[str, Binding]] = {
        "AWS::StepFunctions::StateMachine": Binding({"state_machine_arn": STATE_MACHINE_ARN}, physical="state_machine_arn"),
        "AWS::Serverless::StateMachine": Binding({"state_machine_arn": STATE_MACHINE_ARN}),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::StepFunctions::Activity": "activity workers are watched through the state machine that calls them",
    }
    alarms = (
        *METRIC_ALARMS,
        event_alarm(
            "execution_failed", "ExecutionFailedEvent", EXECUTION_STATUS_CHANGE,
            why="an execution ended FAILED, TIMED_OUT or ABORTED (EventBridge 'Step Functions Execution Status "
            "Change'); the message names the execution and its error",
            first_step="open the execution (the message links it) and read the first failed state's error and cause",
            caveat="Standard workflows only: Express workflows emit no execution status events (their "
            "AWS/States metric alarms still apply). [unverified] error and cause in the event: documented as "
            "DescribeExecution's fields, absent from AWS's older example events.",
        ),
    )

    def watched(self, o: StepFunctionsOptions) -> str:
        return f"state machine {o.state_machine_arn or o.state_machine_name}"

    def state_machine_arn(self, o: StepFunctionsOptions) -> Any:
        if o.state_machine_arn:
            return o.state_machine_arn
        from troposphere import Sub  # lazily: loading a spec (the validation phase) needs no troposphere

        return Sub(f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{o.state_machine_name}")

    def targets(self, o: StepFunctionsOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"StateMachineArn": self.state_machine_arn(o)})]

    def extra_alarms(self, o: StepFunctionsOptions, env: BuildEnv) -> list[ExtraAlarm]:
        return success_alarms(o.expect_success_within_hours, self.targets(o))

    def event_detail(self, o: StepFunctionsOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"stateMachineArn": [self.state_machine_arn(o)], "status": ["FAILED", "TIMED_OUT", "ABORTED"]}

    def check(self, o: StepFunctionsOptions) -> list[tuple[str, str]]:
        if bool(o.state_machine_arn) == bool(o.state_machine_name):
            return [("", "give exactly one of 'state_machine_arn' or 'state_machine_name'")]
        arn = o.state_machine_arn
        if arn and not (arn.startswith("arn:") and ":states:" in arn and ":stateMachine:" in arn):
            return [("state_machine_arn", "expected 'arn:<partition>:states:<region>:<account>:stateMachine:<name>'")]
        return []

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        serverless = resource.type == "AWS::Serverless::StateMachine"
        sm_type = resource.properties.get("Type" if serverless else "StateMachineType")
        if sm_type == "EXPRESS":
            return ["    # EXPRESS: Express workflows send no execution status events, so only the metric alarms apply",
                    "    alarms: {execution_failed: false}"]
        return [f"    # {sm_type or 'STANDARD'} workflow: execution metrics plus the failed-execution event rule"]


def success_alarms(hours: int | None, targets: list[AlarmTarget]) -> list[ExtraAlarm]:
    """The no-recent-success alarm on ExecutionsSucceeded (shared with the generated `workflow`)."""
    if hours is None:
        return []
    return [_staleness.metric_alarm(hours, "ExecutionsSucceeded", NAMESPACE, t.dimensions, "execution",
                                    "check what starts the executions (schedule or rule) and the latest executions' status")
            for t in targets]
