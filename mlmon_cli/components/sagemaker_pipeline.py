"""Amazon SageMaker Pipelines (model building pipelines): failed executions.

Metrics: namespace `AWS/Sagemaker/ModelBuildingPipeline` (lower-case "m" in Sagemaker),
`ExecutionFailed` with dimension `PipelineName`.
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
Events: 'SageMaker Model Building Pipeline Execution Status Change', camelCase fields
(`currentPipelineExecutionStatus`, `pipelineArn`, `pipelineExecutionArn`); the execution event
carries no failure reason (the failed step's 'Execution Step Status Change' event does).
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
`expect_success_within_hours` alarms when ExecutionSucceeded (same namespace and dimension) stayed
below 1 for that many hourly periods (missing data breaching).
"""

from __future__ import annotations

import re
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

NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")  # CreatePipeline's PipelineName pattern

EXECUTION_STATUS_CHANGE = EventDef(
    source="aws.sagemaker",
    detail_type="SageMaker Model Building Pipeline Execution Status Change",
    status_field="currentPipelineExecutionStatus",
    failure_statuses=("Failed", "Stopped", "CompletedWithFailures"),
    message_template="sagemaker_pipeline_state_change.txt.j2",
    input_paths={
        "pipeline": "$.detail.pipelineArn",
        "execution": "$.detail.pipelineExecutionArn",
        "display": "$.detail.pipelineExecutionDisplayName",
        "status": "$.detail.currentPipelineExecutionStatus",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class SageMakerPipelineOptions:
    pipeline_name: str = field(
        metadata=doc("Name of the existing SageMaker pipeline (PipelineName dimension; the event filter uses its ARN).")
    )
    alert_on_stopped: bool = field(default=True, metadata=doc("Also treat Stopped executions as failures."))
    expect_success_within_hours: int | None = _staleness.option("execution")


@component("sagemaker_pipeline")
class SageMakerPipeline(Component[SageMakerPipelineOptions]):
    Options = SageMakerPipelineOptions
    title = "Amazon SageMaker model building pipeline"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    inventory = Inventory("SageMaker pipelines", "pipeline_name", "sagemaker", "list_pipelines", "PipelineSummaries", name="PipelineName",
                          arn="PipelineArn")
    dimension_names = ("PipelineName",)
    names: ClassVar[Mapping[str, NameOption]] = {  # its grammar: `check` (NAME_PATTERN)
        "pipeline_name": NameOption(instead_of_arn="the pipeline name"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref returns the pipeline name
        "AWS::SageMaker::Pipeline": Binding({"pipeline_name": "${%s}"}, physical="pipeline_name"),
    }
    alarms = (
        event_alarm(
            "pipeline_execution_failed", "PipelineExecutionFailed", EXECUTION_STATUS_CHANGE,
            why="a pipeline execution ended Failed, CompletedWithFailures or Stopped (EventBridge 'SageMaker Model "
            "Building Pipeline Execution Status Change', field currentPipelineExecutionStatus)",
            first_step="list the execution's steps ('aws sagemaker list-pipeline-execution-steps') and read the "
            "failed step's FailureReason",
            caveat="Filtered on detail.pipelineArn, matched ignoring case (SageMaker lower-cases names in pipeline "
            "ARNs). CompletedWithFailures (API PipelineExecutionStatus; not on the event page) is matched too.",
        ),
        AlarmDef(
            "execution_failed", "ExecutionFailed",
            Metric(NAMESPACE, "ExecutionFailed", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="pipeline executions failed (SageMaker's own count per pipeline; it does not depend on the event "
                    "rule's ARN filter)",
                first_step="open the failed execution in SageMaker Studio (Pipelines) and read the failed step's reason"),
        ),
    )

    def watched(self, o: SageMakerPipelineOptions) -> str:
        return f"SageMaker pipeline {o.pipeline_name}"

    def targets(self, o: SageMakerPipelineOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"PipelineName": o.pipeline_name})]

    def extra_alarms(self, o: SageMakerPipelineOptions, env: BuildEnv) -> list[ExtraAlarm]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.metric_alarm(o.expect_success_within_hours, "ExecutionSucceeded", NAMESPACE,
                                        {"PipelineName": o.pipeline_name}, "execution",
                                        "check what starts the pipeline (schedule, rule) and its latest executions in Studio")]

    def pipeline_arn(self, o: SageMakerPipelineOptions) -> Any:
        from troposphere import Sub  # lazily: loading a spec (the validation phase) needs no troposphere

        # lower-case the literal text only: a `${...}` CloudFormation value keeps its case (equals-ignore-case matches)
        name = "".join(part if part.startswith("${") else part.lower() for part in re.split(r"(\$\{[^}]*\})", o.pipeline_name))
        return Sub(f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:pipeline/{name}")

    def event_detail(self, o: SageMakerPipelineOptions, alarm: AlarmDef) -> dict[str, Any]:
        statuses = ["Failed", "CompletedWithFailures"] + (["Stopped"] if o.alert_on_stopped else [])
        return {"pipelineArn": [{"equals-ignore-case": self.pipeline_arn(o)}], "currentPipelineExecutionStatus": statuses}

    def check(self, o: SageMakerPipelineOptions) -> list[tuple[Any, str]]:
        if "${" not in o.pipeline_name and not NAME_PATTERN.match(o.pipeline_name):  # ${...}: a CloudFormation value
            return [("pipeline_name", ("expected a SageMaker pipeline name: letters, digits and '-', starting and "
                                       "ending with a letter or digit, at most 256 characters"))]
        return []
