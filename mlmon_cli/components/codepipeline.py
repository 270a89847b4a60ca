"""AWS CodePipeline failures: the V2 metric plus the execution state-change event.

Metrics: https://docs.aws.amazon.com/codepipeline/latest/userguide/metrics-dimensions.html (V2 only)
Events:  https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html
`expect_success_within_hours` adds a target-less rule on SUCCEEDED executions (CodePipeline
publishes no success metric) and an alarm when it matched nothing for that long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
    event_alarm,
)

PIPELINE_STATE_CHANGE = EventDef(
    source="aws.codepipeline",
    detail_type="CodePipeline Pipeline Execution State Change",
    status_field="state",
    failure_statuses=("FAILED",),
    message_template="codepipeline_state_change.txt.j2",
    input_paths={
        "pipeline": "$.detail.pipeline",
        "execution": "$.detail.execution-id",
        "state": "$.detail.state",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class CodePipelineOptions:
    pipeline_name: str = field(metadata=doc("Name of the existing pipeline (PipelineName dimension and event filter)."))
    expect_success_within_hours: int | None = _staleness.option("execution")


@component("codepipeline")
class CodePipeline(Component[CodePipelineOptions]):
    Options = CodePipelineOptions
    title = "AWS CodePipeline pipeline"
    docs_url = "https://docs.aws.amazon.com/codepipeline/latest/userguide/metrics-dimensions.html"
    inventory = Inventory("CodePipeline pipelines", "pipeline_name", "codepipeline", "list_pipelines", "pipelines", name="name",
                          arn_format="arn:{partition}:codepipeline:{region}:{account}:{name}")
    dimension_names = ("PipelineName",)
    names: ClassVar[Mapping[str, NameOption]] = {"pipeline_name": NameOption(r"[A-Za-z0-9.@_-]{1,100}",
                                         "a pipeline name: at most 100 letters, digits, '.', '@', '-' and '_'", "the pipeline name")}
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref returns the pipeline name
        "AWS::CodePipeline::Pipeline": Binding({"pipeline_name": "${%s}"}, physical="pipeline_name"),
    }
    alarms = (
        event_alarm(
            "pipeline_failed", "PipelineFailed", PIPELINE_STATE_CHANGE,
            why="a pipeline execution ended FAILED (EventBridge 'CodePipeline Pipeline Execution State Change'); "
            "works for V1 and V2 pipelines",
            first_step="open the execution in the CodePipeline console and read the failed action's details",
        ),
        AlarmDef(
            "failed_executions", "FailedExecutions",
            Metric("AWS/CodePipeline", "FailedPipelineExecutions", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="pipeline executions failed (a retried failed action counts again)",
                first_step="open the pipeline's execution history and read the failed action's details",
                caveat="Emitted for V2 pipelines only. [unverified] dimension name PipelineName: confirm with "
                    "'aws cloudwatch list-metrics --namespace AWS/CodePipeline'."),
        ),
    )

    def watched(self, o: CodePipelineOptions) -> str:
        return f"pipeline {o.pipeline_name}"

    def targets(self, o: CodePipelineOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"PipelineName": o.pipeline_name})]

    def resources(self, o: CodePipelineOptions, env: BuildEnv) -> list[Any]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.success_rule(env, "aws.codepipeline", PIPELINE_STATE_CHANGE.detail_type,
                                        {"pipeline": [o.pipeline_name], "state": ["SUCCEEDED"]}, self.watched(o))]

    def extra_alarms(self, o: CodePipelineOptions, env: BuildEnv) -> list[ExtraAlarm]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.rule_alarm(env, o.expect_success_within_hours, "execution",
                                      "check the pipeline's source trigger and its latest executions")]

    def event_detail(self, o: CodePipelineOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"pipeline": [o.pipeline_name], "state": ["FAILED"]}
