"""Amazon SageMaker training job failures, from EventBridge.

Training metrics carry a per-run `Host` dimension (`<job-name>/algo-<n>`), unknown when the
template is written, so no static metric alarm can target them; the state-change event is the
reliable failure signal. https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmTarget, Component, EventDef, event_alarm

TRAINING_STATE_CHANGE = EventDef(
    source="aws.sagemaker",
    detail_type="SageMaker Training Job State Change",
    message_template="sagemaker_training_state_change.txt.j2",
    input_paths={
        "job": "$.detail.TrainingJobName",
        "status": "$.detail.TrainingJobStatus",
        "secondary": "$.detail.SecondaryStatus",
        "reason": "$.detail.FailureReason",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class SageMakerTrainingOptions:
    job_name_prefix: str = field(metadata=doc("Prefix shared by the training job names to watch (e.g. 'churn-train-')."))
    alert_on_stopped: bool = field(default=True, metadata=doc("Also treat Stopped jobs as failures."))


@component("sagemaker_training")
class SageMakerTraining(Component[SageMakerTrainingOptions]):
    Options = SageMakerTrainingOptions
    title = "Amazon SageMaker training jobs"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html"
    dimension_names = ()
    alarms = (
        event_alarm(
            "training_job_failed", "TrainingJobFailed", TRAINING_STATE_CHANGE,
            why="a training job whose name starts with the prefix ended Failed or Stopped "
            "(EventBridge 'SageMaker Training Job State Change')",
            first_step="read the job's FailureReason and its CloudWatch log group /aws/sagemaker/TrainingJobs",
        ),
    )

    def watched(self, o: SageMakerTrainingOptions) -> str:
        return f"SageMaker training jobs named {o.job_name_prefix}*"

    def targets(self, o: SageMakerTrainingOptions) -> list[AlarmTarget]:
        return []

    def event_detail(self, o: SageMakerTrainingOptions, alarm: AlarmDef) -> dict[str, Any]:
        statuses = ["Failed"] + (["Stopped"] if o.alert_on_stopped else [])
        return {"TrainingJobName": [{"prefix": o.job_name_prefix}], "TrainingJobStatus": statuses}
