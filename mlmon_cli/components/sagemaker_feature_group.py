"""Amazon SageMaker Feature Store feature group: runtime errors, throttles and latency of its
GetRecord / PutRecord calls (the online store the models read at inference).

Metrics (monitoring-cloudwatch, "Amazon SageMaker Feature Store metrics"): `Operation4XXErrors`,
`Operation5XXErrors`, `ThrottledRequests` (1 per failed or throttled request, else 0: Average is the
share), `Invocations` and `Latency` (microseconds, percentiles listed), dimensions
`FeatureGroupName, OperationName` for non-batch operations (GetRecord, PutRecord, DeleteRecord);
batch operations (BatchGetRecord) carry `OperationName` only, so they are not per feature group.
The page names no namespace for these metrics: mlmon uses `AWS/SageMaker` [unverified], and each
description names the call that settles it (`aws cloudwatch list-metrics --metric-name
Operation5XXErrors --dimensions Name=FeatureGroupName,Value=<group>`).
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..spec.kind_facts import Binding, NameOption, TemplateResource
from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Component, Metric

NAMESPACE = "AWS/SageMaker"  # [unverified]: see the module text
OPERATIONS = ("GetRecord", "PutRecord", "DeleteRecord")


def _caveat(metric: str) -> str:
    return (f"[unverified] namespace AWS/SageMaker (AWS's page names none for Feature Store): aws cloudwatch list-metrics "
            f"--metric-name {metric} --dimensions Name=FeatureGroupName,Value=<group>; if it differs, turn this alarm off "
            "and add it as a custom alarm in that namespace.")


@dataclass(frozen=True)
class FeatureGroupOptions:
    feature_group_name: str = field(metadata=doc("Name of the feature group (FeatureGroupName dimension)."))
    operations: tuple[str, ...] = field(default=("GetRecord", "PutRecord"), metadata=doc(
        "Runtime operations to watch (OperationName dimension): GetRecord (inference reads the online store), "
        "PutRecord (ingestion), DeleteRecord."))
    latency_p99_ms: int | None = field(default=None, metadata=doc(
        "Latency p99 objective per operation; adds `latency_p99`.", unit="ms", minimum=1))


def _alarm(key: str, suffix: str, metric: str, statistic: str, comparison: str, threshold: float | None, unit: str,
           severity: str, why: str, first_step: str, scale: float = 1.0) -> AlarmDef:
    return AlarmDef(key, suffix, Metric(NAMESPACE, metric, statistic, unit, scale=scale),
                    AlarmPolicy(comparison, threshold, period=60, evaluation_periods=5, datapoints_to_alarm=3,
                                severity=severity),
                    AlarmDocs(why, first_step, caveat=_caveat(metric)))


@component("sagemaker_feature_group")
class SageMakerFeatureGroup(Component[FeatureGroupOptions]):
    Options = FeatureGroupOptions
    title = "Amazon SageMaker Feature Store feature group (online store runtime)"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    dimension_names = ("FeatureGroupName", "OperationName")
    names: ClassVar[Mapping[str, NameOption]] = {  # SageMaker API FeatureGroupName (botocore model: 1-64, pattern)
        "feature_group_name": NameOption(r"(?=.{1,64}\Z)[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}",
                                         "a feature group name: at most 64 letters and digits, '-' or '_' between them",
                                         "the feature group name (the part after ':feature-group/')"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {
        "AWS::SageMaker::FeatureGroup": Binding({"feature_group_name": "${%s}"}, physical="feature_group_name"),
    }
    alarms = (
        _alarm("server_errors", "ServerErrors", "Operation5XXErrors", "Sum", ">=", 1, "count", "critical",
               why="feature store calls failed with server errors (HTTP 5xx): inference reads or ingestion writes fail",
               first_step="check the AWS Health dashboard for SageMaker in the Region; retry with backoff"),
        _alarm("client_error_rate", "ClientErrorRate", "Operation4XXErrors", "Average", ">", 0.05, "fraction", "warning",
               why="share of feature store calls rejected with 4xx (the metric is 0 or 1 per request, so Average is the "
                   "rate): validation, missing records or permissions",
               first_step="read the error code the caller logs (ValidationError, ResourceNotFound, AccessDenied)"),
        _alarm("throttles", "Throttles", "ThrottledRequests", "Sum", ">=", 1, "count", "warning",
               why="feature store calls were throttled (provisioned capacity or on-demand limits)",
               first_step="compare ConsumedRead/WriteCapacityUnits with the provisioned throughput, or raise it"),
        _alarm("latency_p99", "LatencyP99", "Latency", "p99", ">", None, "ms", "warning", scale=1000,
               why="the slowest 1 % of feature store calls exceed the latency objective (metric in microseconds)",
               first_step="check record sizes and throttling; compare with the model endpoint's OverheadLatency"),
    )

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        online = resource.properties.get("OnlineStoreConfig")
        enabled = online.get("EnableOnlineStore") if isinstance(online, dict) else None
        if enabled is True or enabled == "true":
            return ["    # online store: GetRecord (inference reads) and PutRecord (ingestion) errors, throttles"]
        return ["    operations: [PutRecord]   # no literal EnableOnlineStore true: ingestion writes only (no online reads)"]

    def watched(self, o: FeatureGroupOptions) -> str:
        return f"SageMaker feature group {o.feature_group_name}"

    def targets(self, o: FeatureGroupOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"FeatureGroupName": o.feature_group_name, "OperationName": op}, label=op) for op in o.operations]

    def applies(self, o: FeatureGroupOptions, alarm: AlarmDef) -> bool:
        return alarm.key != "latency_p99" or o.latency_p99_ms is not None

    def default_threshold(self, o: FeatureGroupOptions, alarm: AlarmDef) -> float | None:
        return o.latency_p99_ms if alarm.key == "latency_p99" else alarm.policy.threshold

    def check(self, o: FeatureGroupOptions) -> list[tuple[str, str]]:
        if not o.operations:
            return [("operations", "list at least one operation: GetRecord, PutRecord or DeleteRecord")]
        return [(f"operations[{i}]", f"'{op}' is not a per-feature-group operation; give GetRecord, PutRecord or "
                                    + "DeleteRecord (batch operations carry OperationName only)")
                for i, op in enumerate(o.operations) if op not in OPERATIONS]
