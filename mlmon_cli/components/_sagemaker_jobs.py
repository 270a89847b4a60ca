"""What the SageMaker job kinds (training, processing, transform, tuning) share.

Job metrics carry a per-run `Host` dimension (`<job-name>/algo-<n>`), unknown when the template
is written, so no static metric alarm can target them; the job's EventBridge state-change event
is the reliable failure signal. Each kind module subclasses `SageMakerJob` with its `JobType`.
Events: https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
`expect_success_within_hours` adds a target-less rule on the job type's `Completed` status and an
alarm when it matched nothing for that long. A `JobType` with a `log_group` (shared by every job
of that type; streams start with the job name) gets saved queries narrowed to the prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.model import doc
from . import _staleness
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

EVENTS_DOCS = "https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html"


@dataclass(frozen=True)
class SageMakerJobOptions:
    job_name_prefix: str = field(metadata=doc("Prefix shared by the names of the jobs to watch (e.g. 'churn-train-')."))
    alert_on_stopped: bool = field(default=True, metadata=doc("Also treat Stopped jobs as failures."))
    expect_success_within_hours: int | None = _staleness.option("job with the prefix")


@dataclass(frozen=True)
class JobType:
    """One SageMaker job type as its state-change event names it (fields are PascalCase, values
    PascalCase too: `Failed`, `Stopped`, unlike the endpoint event's `FAILED`)."""

    noun: str  # "training job"
    detail_type: str  # "SageMaker Training Job State Change"
    name_field: str  # "TrainingJobName"
    status_field: str  # "TrainingJobStatus"
    message_template: str
    extra_paths: tuple[tuple[str, str], ...] = ()
    log_group: str = ""  # e.g. /aws/sagemaker/TrainingJobs, shared by every job of the type

    @property
    def event(self) -> EventDef:
        return EventDef(
            source="aws.sagemaker",
            detail_type=self.detail_type,
            status_field=self.status_field,
            failure_statuses=("Failed", "Stopped"),
            message_template=self.message_template,
            input_paths={
                "job": f"$.detail.{self.name_field}",
                "status": f"$.detail.{self.status_field}",
                **dict(self.extra_paths),
                "reason": "$.detail.FailureReason",
                "region": "$.region",
            },
        )

    def alarm(self, key: str, suffix: str, first_step: str, caveat: str = "") -> AlarmDef:
        return event_alarm(
            key, suffix, self.event,
            why=f"a {self.noun} whose name starts with the prefix ended Failed or Stopped "
            f"(EventBridge '{self.detail_type}')",
            first_step=first_step,
            caveat=caveat,
        )


class SageMakerJob(Component[SageMakerJobOptions]):
    """A prefix-filtered state-change rule for one job type; subclasses set `job` and `alarms`."""

    Options = SageMakerJobOptions
    docs_url = EVENTS_DOCS
    dimension_names = ()
    names: ClassVar[Mapping[str, NameOption]] = {
        "job_name_prefix": NameOption(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}", "a SageMaker job name prefix: at most 63 letters, digits "
                                      "and '-', starting with a letter or digit", "the job name prefix"),
    }
    job: ClassVar[JobType]

    def watched(self, o: SageMakerJobOptions) -> str:
        return f"SageMaker {self.job.noun}s named {o.job_name_prefix}*"

    def targets(self, o: SageMakerJobOptions) -> list[AlarmTarget]:
        return []

    log_group_shared = True

    def resources(self, o: SageMakerJobOptions, env: BuildEnv) -> list[Any]:
        if o.expect_success_within_hours is None:
            return []
        detail = {self.job.name_field: [{"prefix": o.job_name_prefix}], self.job.status_field: ["Completed"]}
        return [_staleness.success_rule(env, "aws.sagemaker", self.job.detail_type, detail, self.watched(o))]

    def extra_alarms(self, o: SageMakerJobOptions, env: BuildEnv) -> list[ExtraAlarm]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.rule_alarm(env, o.expect_success_within_hours, self.job.noun,
                                      f"check what starts the {self.job.noun}s (pipeline, schedule) and their latest statuses")]

    def log_group(self, o: SageMakerJobOptions) -> str | None:
        return self.job.log_group or None

    def log_stream_prefix(self, o: SageMakerJobOptions) -> str | None:
        return o.job_name_prefix if self.job.log_group else None

    def event_detail(self, o: SageMakerJobOptions, alarm: AlarmDef) -> dict[str, Any]:
        statuses = ["Failed"] + (["Stopped"] if o.alert_on_stopped else [])
        return {self.job.name_field: [{"prefix": o.job_name_prefix}], self.job.status_field: statuses}
