"""AWS Step Functions state machine alarms (execution metrics, dimension StateMachineArn).

Metrics: https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmTarget, Component

NAMESPACE = "AWS/States"


@dataclass(frozen=True)
class StepFunctionsOptions:
    state_machine_arn: str | None = field(default=None, metadata=doc("ARN of the existing state machine."))
    state_machine_name: str | None = field(
        default=None, metadata=doc("Name of the state machine in the stack's account and Region (the ARN is built from it).")
    )


def _count(key: str, suffix: str, metric: str, why: str, first_step: str) -> AlarmDef:
    return AlarmDef(
        key=key, suffix=suffix, metric=metric, namespace=NAMESPACE, statistic="Sum", comparison=">=", threshold=1,
        unit="count", period=300, why=why, first_step=first_step,
    )


@component("step_functions")
class StepFunctions(Component[StepFunctionsOptions]):
    Options = StepFunctionsOptions
    title = "AWS Step Functions state machine"
    docs_url = "https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html"
    dimension_names = ("StateMachineArn",)
    alarms = (
        _count("executions_failed", "ExecutionsFailed", "ExecutionsFailed",
               "executions that failed: a step raised an error no Catch handled",
               "open the failed execution in the console and read the first failed state's error and cause"),
        _count("executions_timed_out", "ExecutionsTimedOut", "ExecutionsTimedOut",
               "executions that exceeded the state machine's TimeoutSeconds",
               "find the step that was still running and check the job or service it waited on"),
        _count("executions_aborted", "ExecutionsAborted", "ExecutionsAborted",
               "executions that were stopped before finishing (manually or by a deployment)",
               "check CloudTrail StopExecution calls to see who or what stopped it"),
        _count("executions_throttled", "ExecutionThrottled", "ExecutionThrottled",
               "StartExecution or state transitions throttled by Step Functions quotas",
               "check the Step Functions quotas for the account and the rate executions are started at"),
    )

    def watched(self, o: StepFunctionsOptions) -> str:
        return f"state machine {o.state_machine_arn or o.state_machine_name}"

    def state_machine_arn(self, o: StepFunctionsOptions) -> Any:
        if o.state_machine_arn:
            return o.state_machine_arn
        from troposphere import Sub  # lazily: `mlmon validate` never needs troposphere

        return Sub(f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{o.state_machine_name}")

    def targets(self, o: StepFunctionsOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"StateMachineArn": self.state_machine_arn(o)})]

    def check(self, o: StepFunctionsOptions) -> list[tuple[str, str]]:
        if bool(o.state_machine_arn) == bool(o.state_machine_name):
            return [("", "give exactly one of 'state_machine_arn' or 'state_machine_name'")]
        arn = o.state_machine_arn
        if arn and not (arn.startswith("arn:") and ":states:" in arn and ":stateMachine:" in arn):
            return [("state_machine_arn", "expected 'arn:<partition>:states:<region>:<account>:stateMachine:<name>'")]
        return []
