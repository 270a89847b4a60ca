"""Amazon SageMaker endpoint alarms by endpoint type (real-time, asynchronous, serverless), per variant.

`endpoint_type` selects exactly the metrics AWS publishes for that type, from one table
(`PUBLISHED` in this module, also read by the tests): asynchronous endpoints publish no
`Invocations`, `InvocationsPerInstance`, `OverheadLatency` or `InvocationModelErrors` but backlog
metrics (`ApproximateBacklogSize`, `ApproximateAgeOfOldestRequest`, `HasBacklogWithoutCapacity`,
dimension `EndpointName` only) and S3/SNS failure counts; serverless endpoints publish no CPU, disk,
GPU or `InvocationModelErrors` metrics but `ModelSetupTime` (cold starts), `MemoryUtilization` and
`ServerlessConcurrentExecutionsUtilization` (a 0-1 ratio of `MaxConcurrency`). Both AWS pages call
their lists exhaustive (async-inference-monitor, serverless-endpoints-monitoring). [unverified]
serverless `MemoryUtilization` is in `/aws/sagemaker/Endpoints` (AWS's 2023 text wrote
`aws/sagemaker/Endpoints`): check with `aws cloudwatch list-metrics --metric-name MemoryUtilization`;
that async and serverless 4XX/5XX/latency metrics carry `EndpointName, VariantName` as on real-time
endpoints is AWS's "same as real-time" wording, not a listed dimension set.

Invocation metrics: namespace AWS/SageMaker; instance metrics: /aws/sagemaker/Endpoints; both
with exactly the dimensions EndpointName + VariantName (a third dimension, such as
EndpointConfigName during blue/green deployments, is a different series).
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html

Model Monitor (options `data_quality`, `model_quality`, and SageMaker Clarify's `bias_drift` and
`feature_attribution_drift`, see below): a drift alarm per feature
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

SageMaker Clarify schedules: `bias_drift` alarms on `bias_metric_<short name>` in
`aws/sagemaker/Endpoints/bias-metrics` with dimensions Endpoint, MonitoringSchedule, BiasStage,
Label, LabelValue, Facet, FacetValue (keys `stage`, `label`, `label_value`, `facet`,
`facet_value`; clarify-model-monitor-bias-drift-cw); `feature_attribution_drift` on `feature_<name>`
(the global SHAP value) in `aws/sagemaker/Endpoints/explainability-metrics` with Endpoint,
MonitoringSchedule, ExplainabilityMethod=KernelShap, Label (`label`, default label0),
ValueType=GlobalShapValues (clarify-feature-attribute-drift-cw). Both take `metrics`/`features`
as name: {min | max, ...}. AWS: Model Monitor is no longer open to new customers.

Utilization thresholds are per core: `instance_type` (e.g. ml.g5.2xlarge) scales CPUUtilization
by its vCPUs and GPUUtilization by its GPUs and turns the GPU alarm on for GPU types (the table
below); without it 1 core is assumed, and the description and `mlmon plan` say so.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from ..spec.app_template import mapping
from ..spec.kind_facts import ref_target, yaml_scalar
from ..spec.model import doc
from . import component
from ._instance_types import instance_size
from ._instance_types import reference_markdown as instance_table
from ._model_monitor import (
    Monitor,
    monitor_alarms,
    parse_bias_drift,
    parse_data_quality,
    parse_feature_attribution_drift,
    parse_model_quality,
)
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

INVOCATIONS = "AWS/SageMaker"
INSTANCES = "/aws/sagemaker/Endpoints"
SECONDS_VERIFY = "aws cloudwatch list-metrics --namespace AWS/SageMaker --dimensions Name=EndpointName,Value=<endpoint>"
ENDPOINT_ONLY = ("EndpointName",)
VARIANT = ("EndpointName", "VariantName")
ALL_TYPES = frozenset({"realtime", "async", "serverless"})
ASYNC = frozenset({"async"})
SERVERLESS = frozenset({"serverless"})




@dataclass(frozen=True)
class Published:
    namespace: str
    dimensions: tuple[str, ...]
    types: frozenset[str]


# THE table of what AWS publishes per endpoint type (aws-ml-facts-2.md §4, §5; monitoring-cloudwatch):
# metric -> namespace, dimension set, endpoint types. The kind alarms only on these; a test checks
# every generated alarm against it.
PUBLISHED: dict[str, Published] = {
    "Invocations": Published(INVOCATIONS, VARIANT, frozenset({"realtime", "serverless"})),
    "InvocationsPerInstance": Published(INVOCATIONS, VARIANT, frozenset({"realtime"})),
    "Invocation4XXErrors": Published(INVOCATIONS, VARIANT, ALL_TYPES),
    "Invocation5XXErrors": Published(INVOCATIONS, VARIANT, ALL_TYPES),
    "InvocationModelErrors": Published(INVOCATIONS, VARIANT, frozenset({"realtime"})),
    "ModelLatency": Published(INVOCATIONS, VARIANT, ALL_TYPES),
    "OverheadLatency": Published(INVOCATIONS, VARIANT, frozenset({"realtime", "serverless"})),
    "CPUUtilization": Published(INSTANCES, VARIANT, frozenset({"realtime", "async"})),
    "MemoryUtilization": Published(INSTANCES, VARIANT, ALL_TYPES),
    "DiskUtilization": Published(INSTANCES, VARIANT, frozenset({"realtime", "async"})),
    "GPUUtilization": Published(INSTANCES, VARIANT, frozenset({"realtime", "async"})),
    "GPUMemoryUtilization": Published(INSTANCES, VARIANT, frozenset({"realtime", "async"})),
    # asynchronous only (the backlog metrics take EndpointName alone)
    "ApproximateBacklogSize": Published(INVOCATIONS, ENDPOINT_ONLY, ASYNC),
    "ApproximateBacklogSizePerInstance": Published(INVOCATIONS, ENDPOINT_ONLY, ASYNC),
    "ApproximateAgeOfOldestRequest": Published(INVOCATIONS, ENDPOINT_ONLY, ASYNC),
    "HasBacklogWithoutCapacity": Published(INVOCATIONS, ENDPOINT_ONLY, ASYNC),
    "RequestDownloadFailures": Published(INVOCATIONS, VARIANT, ASYNC),
    "ResponseUploadFailures": Published(INVOCATIONS, VARIANT, ASYNC),
    "NotificationFailures": Published(INVOCATIONS, VARIANT, ASYNC),
    "RequestDownloadLatency": Published(INVOCATIONS, VARIANT, ASYNC),
    "ResponseUploadLatency": Published(INVOCATIONS, VARIANT, ASYNC),
    "ExpiredRequests": Published(INVOCATIONS, VARIANT, ASYNC),
    "InvocationFailures": Published(INVOCATIONS, VARIANT, ASYNC),
    "InvocationsProcesssed": Published(INVOCATIONS, VARIANT, ASYNC),  # sic, triple s (every AWS revision)
    "TimeInBacklog": Published(INVOCATIONS, VARIANT, ASYNC),
    "TotalProcessingTime": Published(INVOCATIONS, VARIANT, ASYNC),
    # serverless only
    "ModelSetupTime": Published(INVOCATIONS, VARIANT, SERVERLESS),
    "ServerlessConcurrentExecutionsUtilization": Published(INVOCATIONS, VARIANT, SERVERLESS),
    "ServerlessProvisionedConcurrencyExecutions": Published(INVOCATIONS, VARIANT, SERVERLESS),
    "ServerlessProvisionedConcurrencyUtilization": Published(INVOCATIONS, VARIANT, SERVERLESS),
    "ServerlessProvisionedConcurrencyInvocations": Published(INVOCATIONS, VARIANT, SERVERLESS),
    "ServerlessProvisionedConcurrencySpilloverInvocations": Published(INVOCATIONS, VARIANT, SERVERLESS),
}


# Alarms on the same metric with a different shape per type (serverless memory: Maximum over a minute).
ONLY_FOR = {"memory_utilization": frozenset({"realtime", "async"}), "serverless_memory_utilization": SERVERLESS}


@functools.cache
def published(endpoint_type: str) -> Mapping[str, Published]:
    """The metrics AWS publishes for one endpoint type (read-only: it is computed once per type)."""
    return MappingProxyType({m: p for m, p in PUBLISHED.items() if endpoint_type in p.types})


def percentile_unverified(key: str, metric: str, statistic: str, why: str) -> str:
    """The caveat of a percentile AWS does not list for the metric: on a series published without
    percentiles the alarm never leaves OK (aws-ml-facts-3.md §0), and one call settles it."""
    return (f"[unverified] {statistic} of {metric} ({why}): if 'aws cloudwatch get-metric-statistics --namespace "
            f"AWS/SageMaker --metric-name {metric} --dimensions Name=EndpointName,Value=E Name=VariantName,Value=V "
            f"--extended-statistics {statistic} --period 300 --start-time T0 --end-time T1' returns no datapoints under "
            f"traffic, set 'alarms: {{{key}: {{statistic: Maximum}}}}'.")


ASYNC_MODEL_LATENCY = percentile_unverified("model_latency_p99", "ModelLatency", "p99", "AWS lists no percentiles for it on "
                                            "asynchronous endpoints")


PER_CORE = ("CPU and GPU utilization are summed over cores (0-100 x cores): the threshold is per core, scaled by the "
            "instance_type's count (SageMaker AI pricing, instance details) or instance_vcpus / instance_gpus.")
PER_CORE_ALARMS = ("cpu_utilization", "gpu_utilization")

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
    instance_type: str | None = field(default=None, metadata=doc(
        "The production variants' instance type, e.g. ml.g5.2xlarge: CPUUtilization and GPUUtilization are summed over "
        "vCPUs and GPUs, so their thresholds are scaled to its counts (table in docs/kinds.md), and a GPU type turns the "
        "GPU alarm on. Unknown or unset: 1 vCPU and 1 GPU are assumed (the alarm descriptions and `mlmon plan` say so)."))
    instance_vcpus: int | None = field(default=None, metadata=doc(
        "vCPUs per instance, overriding `instance_type`'s count: CPUUtilization is summed over cores, so its threshold "
        "is scaled.", minimum=1))
    instance_gpus: int | None = field(default=None, metadata=doc(
        "GPUs per instance, overriding `instance_type`'s count; scales the GPU utilization threshold.", minimum=1))
    endpoint_type: str = field(default="realtime", metadata=doc(
        "realtime, async or serverless (as in the EndpointConfig: AsyncInferenceConfig, ServerlessConfig): only the "
        "metrics AWS publishes for that type get alarms.", choices=("realtime", "async", "serverless")))
    async_inference: bool = field(
        default=False, metadata=doc("Same as `endpoint_type: async` (kept for existing specs).")
    )
    data_quality: Monitor | None = field(default=None, metadata=doc(
        "Model Monitor data-quality schedule: `schedule_name`, `features` (name: drift threshold), optional settings, "
        "`namespace`, `dimensions` (see above).", parse=parse_data_quality, type="mapping"))
    model_quality: Monitor | None = field(default=None, metadata=doc(
        "Model Monitor model-quality schedule: `schedule_name`, `metrics` (name: {min} or {max}), optional settings, "
        "`namespace`, `dimensions`.", parse=parse_model_quality, type="mapping"))
    bias_drift: Monitor | None = field(default=None, metadata=doc(
        "SageMaker Clarify bias-drift schedule: `schedule_name`, `stage`, `label`, `label_value`, `facet`, `facet_value`, "
        "`metrics` (short name: {min} or {max}, on bias_metric_<name>), optional settings.", parse=parse_bias_drift,
        type="mapping"))
    feature_attribution_drift: Monitor | None = field(default=None, metadata=doc(
        "SageMaker Clarify feature-attribution-drift schedule: `schedule_name`, `features` (name: {min} or {max}, on the "
        "global SHAP value feature_<name>), `label` (default label0), optional settings.",
        parse=parse_feature_attribution_drift, type="mapping"))


def endpoint_type(o: SageMakerEndpointOptions) -> str:
    return "async" if o.async_inference else o.endpoint_type


def cores(o: SageMakerEndpointOptions, alarm_key: str) -> tuple[int, str]:
    """(vCPUs or GPUs per instance, how that count is known) for the CPU or GPU utilization alarm."""
    vcpu = alarm_key == "cpu_utilization"
    what, option = ("vCPU", "instance_vcpus") if vcpu else ("GPU", "instance_gpus")
    given = o.instance_vcpus if vcpu else o.instance_gpus
    size = instance_size(o.instance_type)
    counted = (size.vcpus if vcpu else size.gpus) if size is not None else 0
    if given is not None:
        return given, f"per {what} x {given} ({option})"
    if counted:
        return counted, f"per {what} x {counted} {what}{'s' if counted != 1 else ''} of {o.instance_type}"
    known = f"{o.instance_type} is not in mlmon's instance table" if o.instance_type else "instance type unknown"
    return 1, f"per {what}, assuming 1 {what}: {known}, set instance_type or {option}"


@component("sagemaker_endpoint")
class SageMakerEndpoint(Component[SageMakerEndpointOptions]):
    Options = SageMakerEndpointOptions
    title = "Amazon SageMaker endpoint (real-time, asynchronous or serverless)"
    _VARIANT = r"[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62}"  # CreateEndpoint's EndpointName and VariantName pattern
    names: ClassVar[Mapping[str, NameOption]] = {
        "endpoint_name": NameOption(_VARIANT, "a SageMaker endpoint name: at most 63 letters, digits and '-', starting and ending "
                                              "with a letter or digit", "the endpoint name (the part after ':endpoint/')"),
        "variants": NameOption(_VARIANT, "a SageMaker variant name: at most 63 letters, digits and '-', starting and ending with "
                                         "a letter or digit"),
        "schedule_name": NameOption(instead_of_arn="the schedule name"),  # in data_quality/model_quality
    }
    # GetAtt EndpointName is the name (Ref is the ARN, which is also a stack's physical ID).
    bindings: ClassVar[Mapping[str, Binding]] = {
        "AWS::SageMaker::Endpoint": Binding({"endpoint_name": "${%s.EndpointName}"}, physical="endpoint_name",
                                            physical_prefix=r"^arn:[^:]+:sagemaker:[^:]*:\d*:endpoint/"),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::SageMaker::Model": "a model has no metrics of its own: the endpoint or job that uses it is watched",
        "AWS::SageMaker::EndpointConfig": "read for its endpoint's variants and type; the endpoint is watched",
        "AWS::SageMaker::MonitoringSchedule": "Model Monitor: give the endpoint component `data_quality`/`model_quality`",
    }
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    inventory = Inventory("SageMaker endpoints", "endpoint_name", "sagemaker", "list_endpoints", "Endpoints", name="EndpointName",
                          arn="EndpointArn")
    dimension_names = ("EndpointName", "VariantName")
    alarms = (
        AlarmDef(
            "invocation_5xx_rate", "Invocation5XXRate",
            Metric(INVOCATIONS, "Invocation5XXErrors", "Average", "fraction"),
            AlarmPolicy(">", 0.01, period=60, evaluation_periods=5, datapoints_to_alarm=3),
            AlarmDocs(
                why="share of requests answered with a 5XX error (the metric is 0 or 1 per request, so Average is the rate)",
                first_step="check the endpoint's container logs and instance health"),
        ),
        AlarmDef(
            "invocation_4xx_rate", "Invocation4XXRate",
            Metric(INVOCATIONS, "Invocation4XXErrors", "Average", "fraction"),
            AlarmPolicy(">", 0.05, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="share of requests rejected with a 4XX error: callers send malformed or oversized payloads",
                first_step="check recent client deployments and the request payloads they send"),
        ),
        AlarmDef(
            "model_errors", "ModelErrors",
            Metric(INVOCATIONS, "InvocationModelErrors", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="the model container returned a non-2XX response (including timeouts and socket errors)",
                first_step="read the container log group /aws/sagemaker/Endpoints/<endpoint> for the exception"),
        ),
        AlarmDef(
            "model_latency_p99", "ModelLatencyP99",
            Metric(INVOCATIONS, "ModelLatency", "p99", "ms", scale=1000),
            AlarmPolicy(">", 1000, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="the slowest 1 % of model responses exceed the latency objective (metric in microseconds)",
                first_step="compare with instance CPU/GPU utilization; scale out or check for a slow model version"),
        ),
        AlarmDef(
            "overhead_latency_p99", "OverheadLatencyP99",
            Metric(INVOCATIONS, "OverheadLatency", "p99", "ms", scale=1000),
            AlarmPolicy(">", 200, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="SageMaker's own overhead per request is high (large payloads, throttling or instance pressure)",
                first_step="check payload sizes and whether the instance count matches the request rate",
                caveat=percentile_unverified("overhead_latency_p99", "OverheadLatency", "p99", "AWS lists no percentiles for it")),
        ),
        AlarmDef(
            "cpu_utilization", "CPUUtilization",
            Metric(INSTANCES, "CPUUtilization", "Average", "percent"),
            AlarmPolicy(">", 90, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="instances are CPU-bound, so latency rises and requests start to fail",
                first_step="scale out the variant or enable auto scaling on InvocationsPerInstance",
                caveat=PER_CORE),
        ),
        AlarmDef(
            "memory_utilization", "MemoryUtilization",
            Metric(INSTANCES, "MemoryUtilization", "Average", "percent"),
            AlarmPolicy(">", 90, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="instance memory is nearly exhausted; the container may be killed",
                first_step="check the model's memory footprint and choose a larger instance type"),
        ),
        AlarmDef(
            "serverless_memory_utilization", "MemoryUtilization",
            Metric(INSTANCES, "MemoryUtilization", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="the serverless endpoint's memory is nearly exhausted (of MemorySizeInMB)",
                first_step="raise MemorySizeInMB (1024-6144 in 1 GB steps) in a new endpoint config",
                caveat="[unverified] namespace /aws/sagemaker/Endpoints and dimensions EndpointName, VariantName for "
                    "serverless endpoints: check with 'aws cloudwatch list-metrics --metric-name MemoryUtilization'."),
        ),
        AlarmDef(
            "disk_utilization", "DiskUtilization",
            Metric(INSTANCES, "DiskUtilization", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="instance disk is nearly full (model artifacts, logs, temporary files)",
                first_step="look for files the container writes to disk and clean them up"),
        ),
        AlarmDef(
            "gpu_utilization", "GPUUtilization",
            Metric(INSTANCES, "GPUUtilization", "Average", "percent"),
            AlarmPolicy(">", 90, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing",
                        severity="warning", enabled=False),
            AlarmDocs(
                why="GPUs are saturated, so inference queues up (GPU instances only; on by default for a GPU "
                    "instance_type)",
                first_step="scale out the variant or batch requests more efficiently",
                caveat=PER_CORE),
        ),
        # asynchronous endpoints
        AlarmDef(
            "backlog_age", "BacklogAge",
            Metric(INVOCATIONS, "ApproximateAgeOfOldestRequest", "Maximum", "s", dimensions=ENDPOINT_ONLY),
            AlarmPolicy(">", 10800, period=300, evaluation_periods=3, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="the oldest queued request has waited over half of the default RequestTTLSeconds (21,600 s); "
                    "requests past their TTL expire unprocessed",
                first_step="check instance count and scaling on ApproximateBacklogSizePerInstance; lower the threshold "
                    "if you set a shorter RequestTTLSeconds"),
        ),
        AlarmDef(
            "backlog_size", "BacklogSize",
            Metric(INVOCATIONS, "ApproximateBacklogSize", "Maximum", dimensions=ENDPOINT_ONLY),
            AlarmPolicy(">", 1000, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
            AlarmDocs(
                why="requests are queueing faster than the endpoint processes them",
                first_step="check the scaling policy (it must track ApproximateBacklogSizePerInstance, not "
                    "InvocationsPerInstance, which async endpoints do not publish)"),
        ),
        AlarmDef(
            "backlog_without_capacity", "BacklogWithoutCapacity",
            Metric(INVOCATIONS, "HasBacklogWithoutCapacity", "Maximum", dimensions=ENDPOINT_ONLY),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=10, datapoints_to_alarm=10),
            AlarmDocs(
                why="requests are queued while the endpoint has no instances (scale from zero has not happened)",
                first_step="check the scale-out-from-zero step-scaling policy on HasBacklogWithoutCapacity and its "
                    "CloudWatch alarm; ten minutes is longer than a normal scale-out"),
        ),
        AlarmDef(
            "invocation_failures", "InvocationFailures",
            Metric(INVOCATIONS, "InvocationFailures", "Sum"),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="asynchronous invocations failed (for any reason)",
                first_step="read the ErrorTopic notification or the container log /aws/sagemaker/Endpoints/<endpoint>"),
        ),
        AlarmDef(
            "request_download_failures", "RequestDownloadFailures",
            Metric(INVOCATIONS, "RequestDownloadFailures", "Sum"),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="request payloads could not be downloaded from S3 (InputLocation)",
                first_step="check the S3 object exists and the endpoint's execution role may read it (and its KMS key)"),
        ),
        AlarmDef(
            "response_upload_failures", "ResponseUploadFailures",
            Metric(INVOCATIONS, "ResponseUploadFailures", "Sum"),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="responses could not be written to the S3 output location (results are lost)",
                first_step="check the S3OutputPath bucket policy, the execution role and the KMS key"),
        ),
        AlarmDef(
            "notification_failures", "NotificationFailures",
            Metric(INVOCATIONS, "NotificationFailures", "Sum"),
            AlarmPolicy(">=", 1, severity="warning"),
            AlarmDocs(
                why="success or error notifications could not be published to the SNS topics",
                first_step="check the NotificationConfig topics exist and the execution role may publish to them"),
        ),
        AlarmDef(
            "expired_requests", "ExpiredRequests",
            Metric(INVOCATIONS, "ExpiredRequests", "Sum"),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="queued requests expired after RequestTTLSeconds without being processed (silent data loss)",
                first_step="scale out or raise RequestTTLSeconds; find the lost requests by InferenceId"),
        ),
        AlarmDef(
            "total_processing_time_p90", "TotalProcessingTimeP90",
            Metric(INVOCATIONS, "TotalProcessingTime", "p90", "ms"),
            AlarmPolicy(">", 1_800_000, period=300, evaluation_periods=3, datapoints_to_alarm=3, severity="warning", enabled=False),
            AlarmDocs(
                why="the slowest 10 % of asynchronous requests take longer than the objective from receipt to result "
                    "(queueing, processing, upload, notification; in ms)",
                first_step="compare TimeInBacklog with ModelLatency to tell queueing from a slow model",
                caveat=percentile_unverified("total_processing_time_p90", "TotalProcessingTime", "p90", "none listed by AWS")),
        ),
        # serverless endpoints
        AlarmDef(
            "model_setup_time", "ModelSetupTime",
            Metric(INVOCATIONS, "ModelSetupTime", "Maximum", "ms", scale=1000),
            AlarmPolicy(">", 10000, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="cold starts take long: launching new compute for the model (metric in microseconds)",
                first_step="shrink the container image and model artifact, or add ProvisionedConcurrency"),
        ),
        AlarmDef(
            "concurrency_utilization", "ConcurrencyUtilization",
            Metric(INVOCATIONS, "ServerlessConcurrentExecutionsUtilization", "Maximum", "ratio"),
            AlarmPolicy(">", 0.8, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="concurrent executions are near MaxConcurrency (a 0-1 ratio, not percent); beyond it requests throttle",
                first_step="raise MaxConcurrency (at most 200) in a new endpoint config",
                caveat=f"[unverified] dimensions EndpointName, VariantName: check with '{SECONDS_VERIFY}'."),
        ),
        AlarmDef(
            "provisioned_concurrency_spillover", "ProvisionedConcurrencySpillover",
            Metric(INVOCATIONS, "ServerlessProvisionedConcurrencySpilloverInvocations", "Maximum"),
            AlarmPolicy(">", 0, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning", enabled=False),
            AlarmDocs(
                why="requests overflowed provisioned concurrency to on-demand compute (cold starts)",
                first_step="raise ProvisionedConcurrency in a new endpoint config",
                caveat=f"[unverified] dimensions EndpointName, VariantName: check with '{SECONDS_VERIFY}'. "
                    "Only for endpoints with ProvisionedConcurrency."),
        ),
        event_alarm(
            "endpoint_failed", "EndpointFailed", ENDPOINT_STATE_CHANGE,
            why="the endpoint entered FAILED (EventBridge 'SageMaker Endpoint State Change'; events use upper case "
            "unlike the API's 'Failed')",
            first_step="read the endpoint's FailureReason with 'aws sagemaker describe-endpoint'",
        ),
    )

    @classmethod
    def reference_markdown(cls) -> str:
        return instance_table()

    def watched(self, o: SageMakerEndpointOptions) -> str:
        kind = {"realtime": "", "async": "asynchronous ", "serverless": "serverless "}[endpoint_type(o)]
        return f"SageMaker {kind}endpoint {o.endpoint_name}"

    def targets(self, o: SageMakerEndpointOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"EndpointName": o.endpoint_name, "VariantName": v}, label=v) for v in o.variants]

    def applies(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> bool:
        kind = endpoint_type(o)
        return alarm.is_event or (alarm.metric.name in published(kind) and kind in ONLY_FOR.get(alarm.key, ALL_TYPES))

    def extra_alarms(self, o: SageMakerEndpointOptions, env: BuildEnv) -> list[ExtraAlarm]:
        monitors = [m for m in (o.data_quality, o.model_quality, o.bias_drift, o.feature_attribution_drift) if m is not None]
        return [extra for m in monitors for extra in monitor_alarms(m, o.endpoint_name)]

    def log_group(self, o: SageMakerEndpointOptions) -> str | None:
        return f"/aws/sagemaker/Endpoints/{o.endpoint_name}"

    def metric_threshold(self, o: SageMakerEndpointOptions, alarm: AlarmDef, value: float) -> float:
        if alarm.key in PER_CORE_ALARMS:
            return value * cores(o, alarm.key)[0]
        return value * alarm.metric.scale

    def caveat(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> str:
        if alarm.key == "model_latency_p99" and endpoint_type(o) == "async":
            return ASYNC_MODEL_LATENCY
        return alarm.docs.caveat

    def threshold_note(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> str:
        return cores(o, alarm.key)[1] if alarm.key in PER_CORE_ALARMS else ""

    def default_enabled(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> bool:
        if alarm.key == "gpu_utilization":
            size = instance_size(o.instance_type)
            return size is not None and size.gpus > 0  # a GPU instance: its saturation is the first limit
        return alarm.policy.enabled

    def event_detail(self, o: SageMakerEndpointOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"EndpointName": [o.endpoint_name], "EndpointStatus": ["FAILED"]}

    def check(self, o: SageMakerEndpointOptions) -> list[tuple[str, str]]:
        problems = [("variants", "list at least one variant name")] if not o.variants else []
        if o.instance_type and "${" not in o.instance_type and not o.instance_type.startswith("ml."):
            problems.append(("instance_type", f"'{o.instance_type}' is not a SageMaker instance type (ml.<family>.<size>, e.g. "
                                              + "ml.g5.2xlarge)"))
        if o.async_inference and o.endpoint_type not in ("realtime", "async"):
            problems.append(("async_inference", f"contradicts endpoint_type '{o.endpoint_type}'; remove async_inference"))
        seen: set[str] = set()
        for index, variant in enumerate(o.variants):
            if variant in seen:
                problems.append((f"variants[{index}]", f"duplicate variant '{variant}'"))
            seen.add(variant)
        return problems

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        """variants, endpoint_type and instance_type from the endpoint's EndpointConfig in the template."""
        logical = ref_target(resource.properties.get("EndpointConfigName"))
        config = resource.resource(logical)
        if logical is None or config is None or config.type != "AWS::SageMaker::EndpointConfig":
            return ["    # its EndpointConfig is not in this template: check variants, endpoint_type and instance_type"]
        cprops = config.properties
        raw = cprops.get("ProductionVariants")
        variants = [v for v in raw if isinstance(v, dict)] if isinstance(raw, list) else []
        names = [v.get("VariantName") for v in variants]
        literal = [n for n in names if isinstance(n, str)]
        out = []
        if names and literal == names:
            out.append(f"    variants: [{', '.join(yaml_scalar(n) for n in literal)}]   # from {logical}")
        elif names:
            out.append(f"    # variants: named by a parameter in {logical}; list them here (default AllTraffic)")
        if any("ServerlessConfig" in v for v in variants):
            out.append(f"    endpoint_type: serverless   # {logical} has ServerlessConfig: cold-start (ModelSetupTime), memory and "
                       "concurrency alarms; AWS publishes no InvocationModelErrors or instance metrics for it")
            return out
        if "AsyncInferenceConfig" in cprops:
            out.append(f"    endpoint_type: async   # {logical} has AsyncInferenceConfig: backlog and S3/SNS failure alarms, "
                       "no OverheadLatency")
        out.extend(_instance_type_lines(variants, logical, resource))
        return out


def _instance_type_lines(variants: list[dict[str, Any]], config: str, resource: TemplateResource) -> list[str]:
    """`instance_type` when every variant names the same one (a literal or a parameter's default)."""
    found: dict[str, str] = {}  # instance type -> where it came from
    for variant in variants:
        value = variant.get("InstanceType")
        if isinstance(value, str):
            found.setdefault(value, f"from {config}")
            continue
        param = value.get("Ref") if isinstance(value, dict) else None
        declared = mapping(resource.app.data.get("Parameters")).get(param) if isinstance(param, str) else None
        default = mapping(declared).get("Default")
        if not isinstance(default, str):
            return [f"    # instance_type: set by an expression or a parameter without a default in {config}; give it "
                    + "(e.g. ml.g5.2xlarge) to scale the CPU/GPU thresholds (1 vCPU assumed until then)"]
        found.setdefault(default, f"parameter {param}'s value in {config}: change this if a deployment overrides it")
    if len(found) != 1:
        mixed = ", ".join(sorted(found))
        return [f"    # instance_type: the variants use {mixed}; give the smallest to scale the CPU/GPU thresholds "
                + "(1 vCPU assumed until then)"] if found else []
    (itype, where), = found.items()
    size = instance_size(itype)
    if size is None:
        return [f"    instance_type: {yaml_scalar(itype)}   # {where}; not in mlmon's table: give instance_vcpus/instance_gpus"]
    gpu = f", {size.gpus} GPU{'s' if size.gpus != 1 else ''}: GPU alarm on" if size.gpus else ""
    return [f"    instance_type: {yaml_scalar(itype)}   # {where} ({size.vcpus} vCPUs{gpu}; CPU threshold x {size.vcpus})"]
