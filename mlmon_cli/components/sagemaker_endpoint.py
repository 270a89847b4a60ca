"""Amazon SageMaker real-time endpoint alarms, per production variant.

Invocation metrics: namespace AWS/SageMaker; instance metrics: /aws/sagemaker/Endpoints; both
with exactly the dimensions EndpointName + VariantName (a third dimension, such as
EndpointConfigName during blue/green deployments, is a different series).
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html

Model Monitor (options `data_quality`, `model_quality`): a drift alarm per feature
(`feature_baseline_drift_<feature>`, Maximum > threshold) and a model-quality alarm per metric
(Minimum < `min` or Maximum > `max`), Period 3600 (published once per monitoring run, hourly at
most), missing data notBreaching, severity warning by default. They roll up into a
`<solution>-<component>-<Severity>-ModelHealth` composite under the component's composite of that
severity; with a `notifications.warning` route, drift reaches whoever that route names (e.g. the
data science team). Namespaces and dimensions differ between AWS sources: the defaults are what
endpoints emit (`aws/sagemaker/Endpoints/data-metrics` and `.../model-metrics`, dimensions
Endpoint and MonitoringSchedule); `namespace` and `dimensions` override them, and each
description says how to check (`aws cloudwatch list-metrics`). Keys: `schedule_name`,
`features` (name: threshold, or name: {threshold, period, evaluation_periods,
datapoints_to_alarm, severity}; datapoints_to_alarm defaults to evaluation_periods, i.e.
consecutive periods) or `metrics` (name: {min | max, period, ...}), and the same settings for all
entries, `namespace`, `dimensions`. Logs: `/aws/sagemaker/Endpoints/<endpoint>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec.model import doc
from . import component
from ._model_monitor import Monitor, monitor_alarms, parse_data_quality, parse_model_quality
from .base import AlarmDef, AlarmTarget, BuildEnv, Component, EventDef, ExtraAlarm, event_alarm

INVOCATIONS = "AWS/SageMaker"
INSTANCES = "/aws/sagemaker/Endpoints"
PER_CORE = "CPU and GPU utilization are summed over cores (0-100 x cores); the threshold is scaled by the option."

ENDPOINT_STATE_CHANGE = EventDef(
    source="aws.sagemaker",
    detail_type="SageMaker Endpoint State Change",
    status_field="EndpointStatus",
    failure_statuses=("FAILED",),
    message_template="sagemaker_endpoint_state_change.txt.j2",
    input_paths={
        "endpoint": "$.detail.EndpointName",
        "status": "$.detail.EndpointStatus",
        "reason": "$.detail.FailureReason",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class SageMakerEndpointOptions:
    endpoint_name: str = field(metadata=doc("Name of the existing endpoint (EndpointName dimension)."))
    variants: tuple[str, ...] = field(
        default=("AllTraffic",), metadata=doc("Production variant names (VariantName dimension); SDK default AllTraffic.")
    )
    instance_vcpus: int = field(
        default=1, metadata=doc("vCPUs per instance: CPUUtilization is summed over cores, so its threshold is scaled.", minimum=1)
    )
    instance_gpus: int = field(default=1, metadata=doc("GPUs per instance, scales the GPU utilization threshold.", minimum=1))
    async_inference: bool = field(
        default=False, metadata=doc("Asynchronous endpoint: it publishes no OverheadLatency, so that alarm is skipped.")
    )
    data_quality: Monitor | None = field(default=None, metadata=doc(
        "Model Monitor data-quality schedule: `schedule_name`, `features` (name: drift threshold), optional settings, "
        "`namespace`, `dimensions` (see above).", parse=parse_data_quality, type="mapping"))
    model_quality: Monitor | None = field(default=None, metadata=doc(
        "Model Monitor model-quality schedule: `schedule_name`, `metrics` (name: {min} or {max}), optional settings, "
        "`namespace`, `dimensions`.", parse=parse_model_quality, type="mapping"))


def _metric(key: str, suffix: str, metric: str, namespace: str, statistic: str, comparison: str, threshold: float,
            unit: str, why: str, first_step: str, **kw: Any) -> AlarmDef:
    return AlarmDef(key=key, suffix=suffix, metric=metric, namespace=namespace, statistic=statistic,
                    comparison=comparison, threshold=threshold, unit=unit, why=why, first_step=first_step, **kw)


@component("sagemaker_endpoint")
class SageMakerEndpoint(Component[SageMakerEndpointOptions]):
    Options = SageMakerEndpointOptions
    title = "Amazon SageMaker real-time endpoint"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    dimension_names = ("EndpointName", "VariantName")
    alarms = (
        _metric("invocation_5xx_rate", "Invocation5XXRate", "Invocation5XXErrors", INVOCATIONS, "Average", ">", 0.01,
                "fraction", period=60, evaluation_periods=5, datapoints_to_alarm=3,
                why="share of requests answered with a 5XX error (the metric is 0 or 1 per request, so Average is the rate)",
                first_step="check the endpoint's container logs and instance health"),
        _metric("invocation_4xx_rate", "Invocation4XXRate", "Invocation4XXErrors", INVOCATIONS, "Average", ">", 0.05,
                "fraction", period=60, evaluation_periods=5, datapoints_to_alarm=3,
                why="share of requests rejected with a 4XX error: callers send malformed or oversized payloads",
                first_step="check recent client deployments and the request payloads they send",
            severity="warning",
        ),
        _metric("model_errors", "ModelErrors", "InvocationModelErrors", INVOCATIONS, "Sum", ">=", 1, "count",
                period=300,
                why="the model container returned a non-2XX response (including timeouts and socket errors)",
                first_step="read the container log group /aws/sagemaker/Endpoints/<endpoint> for the exception"),
        _metric("model_latency_p99", "ModelLatencyP99", "ModelLatency", INVOCATIONS, "p99", ">", 1000, "ms",
                scale=1000, period=60, evaluation_periods=5, datapoints_to_alarm=3,
                why="the slowest 1 % of model responses exceed the latency objective (metric in microseconds)",
                first_step="compare with instance CPU/GPU utilization; scale out or check for a slow model version",
            severity="warning",
        ),
        _metric("overhead_latency_p99", "OverheadLatencyP99", "OverheadLatency", INVOCATIONS, "p99", ">", 200, "ms",
                scale=1000, period=60, evaluation_periods=5, datapoints_to_alarm=3,
                why="SageMaker's own overhead per request is high (large payloads, throttling or instance pressure)",
                first_step="check payload sizes and whether the instance count matches the request rate",
            severity="warning",
        ),
        _metric("cpu_utilization", "CPUUtilization", "CPUUtilization", INSTANCES, "Average", ">", 90, "percent",
                period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing",
                why="instances are CPU-bound, so latency rises and requests start to fail", caveat=PER_CORE,
                first_step="scale out the variant or enable auto scaling on InvocationsPerInstance",
            severity="warning",
        ),
        _metric("memory_utilization", "MemoryUtilization", "MemoryUtilization", INSTANCES, "Average", ">", 90, "percent",
                period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing",
                why="instance memory is nearly exhausted; the container may be killed",
                first_step="check the model's memory footprint and choose a larger instance type",
            severity="warning",
        ),
        _metric("disk_utilization", "DiskUtilization", "DiskUtilization", INSTANCES, "Maximum", ">", 90, "percent",
                period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing",
                why="instance disk is nearly full (model artifacts, logs, temporary files)",
                first_step="look for files the container writes to disk and clean them up",
            severity="warning",
        ),
        _metric("gpu_utilization", "GPUUtilization", "GPUUtilization", INSTANCES, "Average", ">", 90, "percent",
                period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing", enabled=False,
                why="GPUs are saturated, so inference queues up (GPU instances only)", caveat=PER_CORE,
                first_step="scale out the variant or batch requests more efficiently",
            severity="warning",
        ),
        event_alarm(
            "endpoint_failed", "EndpointFailed", ENDPOINT_STATE_CHANGE,
            why="the endpoint entered FAILED (EventBridge 'SageMaker Endpoint State Change'; events use upper case "
            "unlike the API's 'Failed')",
            first_step="read the endpoint's FailureReason with 'aws sagemaker describe-endpoint'",
        ),
    )

    def watched(self, o: SageMakerEndpointOptions) -> str:
        return f"SageMaker endpoint {o.endpoint_name}"

    def targets(self, o: SageMakerEndpointOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"EndpointName": o.endpoint_name, "VariantName": v}, label=v) for v in o.variants]

    def applies(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> bool:
        return not (o.async_inference and alarm.key == "overhead_latency_p99")

    def extra_alarms(self, o: SageMakerEndpointOptions, env: BuildEnv) -> list[ExtraAlarm]:
        monitors = [m for m in (o.data_quality, o.model_quality) if m is not None]
        return [extra for m in monitors for extra in monitor_alarms(m, o.endpoint_name)]

    def log_group(self, o: SageMakerEndpointOptions) -> str | None:
        return f"/aws/sagemaker/Endpoints/{o.endpoint_name}"

    def metric_threshold(self, o: SageMakerEndpointOptions, alarm: AlarmDef, value: float) -> float:
        if alarm.key == "cpu_utilization":
            return value * o.instance_vcpus
        if alarm.key == "gpu_utilization":
            return value * o.instance_gpus
        return value * alarm.scale

    def event_detail(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"EndpointName": [o.endpoint_name], "EndpointStatus": ["FAILED"]}

    def check(self, o: SageMakerEndpointOptions) -> list[tuple[str, str]]:
        problems = [("variants", "list at least one variant name")] if not o.variants else []
        seen: set[str] = set()
        for index, variant in enumerate(o.variants):
            if variant in seen:
                problems.append((f"variants[{index}]", f"duplicate variant '{variant}'"))
            seen.add(variant)
        return problems
