"""Amazon Bedrock jobs: model customization (fine-tuning, continued pre-training, distillation) and
batch inference, from their EventBridge events (source `aws.bedrock`, default bus, best effort).

Events: https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge.html
The two events name their status differently: `Model Customization Job State Change` carries
`detail.jobStatus` and `detail.jobName`; `Batch Inference Job State Change` carries `detail.status`
and `detail.batchJobName` (both with `detail.failureMessage`). Failures: customization `Failed`
(and `Stopped`), batch `Failed`, `PartiallyCompleted`, `Expired` (and `Stopped`); the rule lists
them explicitly. `expect_success_within_hours` adds a target-less rule on `Completed` and an alarm
when it matched nothing for that long.
AWS documents **no** EventBridge event for model evaluation jobs, knowledge-base ingestion jobs
(data-source syncs), custom model import or model copy: `job_type: evaluation` or
`knowledge_base_ingestion` is refused with that explanation rather than a rule on an invented event
(poll `GetEvaluationJob` / `ListIngestionJobs`, or read the knowledge base's logs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.model import doc
from . import _staleness, component
from .base import (
    AlarmDef,
    AlarmTarget,
    BuildEnv,
    Component,
    EventDef,
    ExtraAlarm,
    NameOption,
    event_alarm,
)

EVENTS_DOCS = "https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge.html"
NO_EVENT = {
    "evaluation": "AWS documents no EventBridge event for Bedrock model evaluation jobs (the 'Bedrock Model Evaluation "
                  "Job State Change' some code uses is not in AWS's list); poll GetEvaluationJob instead",
    "knowledge_base_ingestion": "AWS documents no EventBridge event for knowledge-base ingestion jobs; poll "
                                "ListIngestionJobs/GetIngestionJob or read the knowledge base's logs instead",
}


@dataclass(frozen=True)
class JobKind:
    noun: str
    detail_type: str
    name_field: str
    status_field: str
    failures: tuple[str, ...]
    template: str

    @property
    def event(self) -> EventDef:
        return EventDef(source="aws.bedrock", detail_type=self.detail_type, message_template=self.template, input_paths={
            "job": f"$.detail.{self.name_field}", "status": f"$.detail.{self.status_field}",
            "reason": "$.detail.failureMessage", "region": "$.region"},
            status_field=self.status_field, failure_statuses=(*self.failures, "Stopped"))


JOBS = {
    "model_customization": JobKind("model customization job", "Model Customization Job State Change", "jobName", "jobStatus",
                                   ("Failed",), "bedrock_customization_state_change.txt.j2"),
    "batch_inference": JobKind("batch inference job", "Batch Inference Job State Change", "batchJobName", "status",
                               ("Failed", "PartiallyCompleted", "Expired"), "bedrock_batch_state_change.txt.j2"),
}


@dataclass(frozen=True)
class BedrockJobOptions:
    job_type: str = field(metadata=doc(
        "model_customization or batch_inference (evaluation and knowledge_base_ingestion have no AWS event: refused).",
        choices=(*JOBS, *NO_EVENT)))
    job_name_prefix: str = field(metadata=doc("Prefix of the job names to watch (detail.jobName / detail.batchJobName)."))
    alert_on_stopped: bool = field(default=True, metadata=doc("Also treat Stopped jobs as failures."))
    expect_success_within_hours: int | None = _staleness.option("job with the prefix")


@component("bedrock_job")
class BedrockJob(Component[BedrockJobOptions]):
    Options = BedrockJobOptions
    title = "Amazon Bedrock model customization and batch inference jobs"
    docs_url = EVENTS_DOCS
    dimension_names = ()
    names: ClassVar[Mapping[str, NameOption]] = {
        "job_name_prefix": NameOption(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}", "a Bedrock job name prefix: at most 63 letters, digits "
                                      "and '-', starting with a letter or digit", "the job name prefix"),
    }
    # no bindings: jobs are API-started, not CloudFormation resources
    alarms = (
        event_alarm("customization_job_failed", "CustomizationJobFailed", JOBS["model_customization"].event,
                    why="a model customization job whose name starts with the prefix ended Failed or Stopped "
                        "(EventBridge 'Model Customization Job State Change', field jobStatus)",
                    first_step="read the job's failureMessage with 'aws bedrock get-model-customization-job'",
                    caveat="EventBridge delivery of Bedrock events is best effort."),
        event_alarm("batch_job_failed", "BatchJobFailed", JOBS["batch_inference"].event,
                    why="a batch inference job whose name starts with the prefix ended Failed, PartiallyCompleted, Expired "
                        "or Stopped (EventBridge 'Batch Inference Job State Change', field status)",
                    first_step="read the job's failureMessage with 'aws bedrock get-model-invocation-job' and the output "
                               "manifest for unprocessed records",
                    caveat="EventBridge delivery of Bedrock events is best effort."),
    )

    def job(self, o: BedrockJobOptions) -> JobKind:
        return JOBS[o.job_type]

    def watched(self, o: BedrockJobOptions) -> str:
        noun = JOBS[o.job_type].noun if o.job_type in JOBS else o.job_type.replace("_", " ") + " job"
        return f"Bedrock {noun}s named {o.job_name_prefix}*"

    def targets(self, o: BedrockJobOptions) -> list[AlarmTarget]:
        return []

    def applies(self, o: BedrockJobOptions, alarm: AlarmDef) -> bool:
        return alarm.event is not None and o.job_type in JOBS and alarm.event.detail_type == JOBS[o.job_type].detail_type

    def event_detail(self, o: BedrockJobOptions, alarm: AlarmDef) -> dict[str, Any]:
        job = self.job(o)
        statuses = [*job.failures, *(["Stopped"] if o.alert_on_stopped else [])]
        return {job.name_field: [{"prefix": o.job_name_prefix}], job.status_field: statuses}

    def resources(self, o: BedrockJobOptions, env: BuildEnv) -> list[Any]:
        if o.expect_success_within_hours is None or o.job_type not in JOBS:
            return []
        job = self.job(o)
        detail = {job.name_field: [{"prefix": o.job_name_prefix}], job.status_field: ["Completed"]}
        return [_staleness.success_rule(env, "aws.bedrock", job.detail_type, detail, self.watched(o))]

    def extra_alarms(self, o: BedrockJobOptions, env: BuildEnv) -> list[ExtraAlarm]:
        if o.expect_success_within_hours is None or o.job_type not in JOBS:
            return []
        return [_staleness.rule_alarm(env, o.expect_success_within_hours, self.job(o).noun,
                                      "check what starts the jobs (pipeline, schedule) and their latest statuses")]

    def check(self, o: BedrockJobOptions) -> list[tuple[str, str]]:
        if o.job_type in NO_EVENT:
            return [("job_type", NO_EVENT[o.job_type])]
        return []
