"""AWS Glue job alarms: Spark job metrics plus job-run failures from EventBridge.

Metrics: https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html
Events:  https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html
Job metrics exist only when the job runs with `--enable-metrics`; a job that fails before Spark
starts emits none, which is why the job-run state-change rule is the primary failure signal.
`expect_success_within_hours` adds a target-less rule on SUCCEEDED runs and an alarm when it
matched nothing for that long. Logs: `/aws-glue/jobs/error`, shared by every job in the account
(its streams are named by run ID, so saved queries and filters see all jobs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.app_template import mapping
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

NAMESPACE = "Glue"
NEEDS_METRICS = "Requires job metrics: run the job with --enable-metrics."

JOB_STATE_CHANGE = EventDef(
    source="aws.glue",
    detail_type="Glue Job State Change",
    status_field="state",
    failure_statuses=("FAILED", "TIMEOUT", "STOPPED"),
    message_template="glue_job_state_change.txt.j2",
    input_paths={
        "job": "$.detail.jobName",
        "run": "$.detail.jobRunId",
        "state": "$.detail.state",
        "message": "$.detail.message",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class GlueJobOptions:
    job_name: str = field(metadata=doc("Name of the existing Glue job (the JobName dimension and event filter)."))
    alert_on_stopped: bool = field(default=False, metadata=doc("Also treat manually STOPPED runs as failures."))
    expect_success_within_hours: int | None = _staleness.option("run of the job")


@component("glue_job")
class GlueJob(Component[GlueJobOptions]):
    Options = GlueJobOptions
    title = "AWS Glue job"
    docs_url = "https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html"
    inventory = Inventory("Glue jobs", "job_name", "glue", "list_jobs", "JobNames", arn_format="arn:{partition}:glue:{region}:{account}:job/{name}")
    dimension_names = ("JobName", "JobRunId=ALL")
    names: ClassVar[Mapping[str, NameOption]] = {
        "job_name": NameOption(r"[^\x00-\x1f\x7f]{1,255}", "a Glue job name: at most 255 characters, no control characters", "the job name"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {"AWS::Glue::Job": Binding({"job_name": "${%s}"}, physical="job_name")}  # Ref returns the job name
    log_group_shared = True
    alarms = (
        event_alarm(
            "job_run_failed", "JobRunFailed", JOB_STATE_CHANGE,
            why="a job run ended FAILED or TIMEOUT (EventBridge 'Glue Job State Change'); Spark metrics miss runs "
            "that fail before Spark starts",
            first_step="open the job run in the Glue console and read its error message and driver log",
        ),
        AlarmDef(
            "failed_tasks", "FailedTasks",
            Metric(NAMESPACE, "glue.driver.aggregate.numFailedTasks", "Sum", fixed=(("Type", "count"),)),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="Spark tasks failed (data skew, bad records, lost executors); the run may still succeed on retries",
                first_step="open the Spark UI or driver log of the latest run and find the failing stage",
                caveat=NEEDS_METRICS),
        ),
        AlarmDef(
            "heap_usage", "HeapUsage",
            Metric(NAMESPACE, "glue.ALL.jvm.heap.usage", "Maximum", "ratio", fixed=(("Type", "gauge"),)),
            AlarmPolicy(">", 0.9, period=300, severity="warning"),
            AlarmDocs(
                why="JVM heap above 90 % on the driver or executors: an early warning of out-of-memory failures",
                first_step="check for large collects or skewed partitions; consider more or larger workers",
                caveat=NEEDS_METRICS),
        ),
    )

    def watched(self, o: GlueJobOptions) -> str:
        return f"Glue job {o.job_name}"

    def targets(self, o: GlueJobOptions) -> list[AlarmTarget]:
        # All three dimensions are required; static alarms can only target JobRunId=ALL.
        return [AlarmTarget({"JobName": o.job_name, "JobRunId": "ALL"})]

    def resources(self, o: GlueJobOptions, env: BuildEnv) -> list[Any]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.success_rule(env, "aws.glue", JOB_STATE_CHANGE.detail_type,
                                        {"jobName": [o.job_name], "state": ["SUCCEEDED"]}, self.watched(o))]

    def extra_alarms(self, o: GlueJobOptions, env: BuildEnv) -> list[ExtraAlarm]:
        if o.expect_success_within_hours is None:
            return []
        return [_staleness.rule_alarm(env, o.expect_success_within_hours, "run of the job",
                                      "check the job's trigger or schedule and its latest runs in the Glue console")]

    def log_group(self, o: GlueJobOptions) -> str | None:
        return "/aws-glue/jobs/error"

    def event_detail(self, o: GlueJobOptions, alarm: AlarmDef) -> dict[str, Any]:
        states = ["FAILED", "TIMEOUT"] + (["STOPPED"] if o.alert_on_stopped else [])
        return {"jobName": [o.job_name], "state": states}

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        args = resource.properties.get("DefaultArguments") or {}
        if mapping(resource.properties.get("Command")).get("Name") == "pythonshell":
            return ["    # Python shell job: no Spark metrics; the job-run failure rule watches it",
                    "    alarms: {failed_tasks: false, heap_usage: false}"]
        if isinstance(args, dict) and "--enable-metrics" in args:
            return ["    # DefaultArguments has --enable-metrics: Spark metric alarms are on"]
        return ["    # no --enable-metrics in DefaultArguments: Spark metric alarms off (add it to turn them on)",
                "    alarms: {failed_tasks: false, heap_usage: false}"]
