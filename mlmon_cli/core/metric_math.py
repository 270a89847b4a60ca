"""Alarms that are not one metric and one statistic: metric math and anomaly-detection bands.

Both replace the alarm's `Namespace`/`MetricName`/`Statistic`/`Dimensions` with a `Metrics` array
(CloudFormation `AWS::CloudWatch::Alarm.Metrics`):

- metric math: one `MetricStat` query per member of the `MetricMath` (ReturnData false) and the expression
  (ReturnData true, the only one; AWS allows at most 10 metrics per metric-math alarm);
- anomaly detection, in the shape of AWS's own CloudFormation example: query `m1` (the metric) and
  `ad1` = `ANOMALY_DETECTION_BAND(m1, band)`, both with ReturnData left at its default true (a
  false on `m1` fails at deploy: aws/aws-cdk#19286), `ThresholdMetricId: ad1` and no `Threshold`,
  plus an `AWS::CloudWatch::AnomalyDetector` on the same namespace, metric, dimensions and
  statistic whose `Configuration.ExcludedTimeRanges` keeps retraining windows out of the model.
  (Whether the alarm deploys without the detector resource is unverified; AWS's example has it.)
"""

from __future__ import annotations

from typing import Any

from troposphere.cloudwatch import (
    AnomalyDetector,
    Configuration,
    Metric,
    MetricDataQuery,
    MetricDimension,
    MetricStat,
    Range,
)

from ..components.base import AlarmDef, AnomalyBand, MetricMath
from ..limits import ANOMALY_OPERATORS as BAND_OPERATORS

SINGLE_KEYS = ("Namespace", "MetricName", "Statistic", "ExtendedStatistic", "Dimensions", "Unit", "Period")
BAND_WORDS = {"above": "above the band", "below": "below the band", "both": "outside the band"}


def _dimensions(dims: dict[str, Any]) -> list[MetricDimension]:
    return [MetricDimension(Name=k, Value=v) for k, v in dims.items()]


def _metric(namespace: str, name: str, dims: dict[str, Any]) -> Metric:
    kw: dict[str, Any] = {"Namespace": namespace, "MetricName": name}
    if dims:
        kw["Dimensions"] = _dimensions(dims)
    return Metric(**kw)


def comparison_text(alarm: AlarmDef) -> str:
    """How the description states the comparison."""
    if isinstance(alarm.metric, AnomalyBand):
        return f"is {BAND_WORDS[alarm.policy.comparison]} of width"
    return alarm.policy.comparison


def member_dimensions(member: Any, dims: dict[str, Any]) -> dict[str, Any]:
    """A math member's dimensions: the alarm's own plus the values the member always carries (DynamoDB's
    per-Operation series), unless the member names its own set."""
    return dict(member.fixed) if member.dimensions is not None else {**dims, **dict(member.fixed)}


def band_expression(threshold: float) -> str:
    band = int(threshold) if float(threshold).is_integer() else threshold
    return f"ANOMALY_DETECTION_BAND(m1, {band})"


def apply(props: dict[str, Any], alarm: AlarmDef, statistic: str, period: int, dims: dict[str, Any], logical: str,
          threshold: float) -> list[Any]:
    """Turn single-metric alarm properties into a `Metrics` alarm; return extra resources (the detector)."""
    for key in SINGLE_KEYS:
        props.pop(key, None)
    if isinstance(alarm.metric, AnomalyBand):
        return _anomaly(props, alarm, alarm.metric, statistic, period, dims, logical, threshold)
    math = alarm.metric
    assert isinstance(math, MetricMath)
    queries = []
    for mid, m in math.metrics:
        queries.append(MetricDataQuery(
            Id=mid, ReturnData=False,
            MetricStat=MetricStat(Metric=_metric(m.namespace, m.name, member_dimensions(m, dims)), Period=period, Stat=m.statistic),
        ))
    queries.append(MetricDataQuery(Id="expr", Expression=math.expression, Label=math.label or math.name, ReturnData=True))
    props["Metrics"] = queries
    return []


def _anomaly(props: dict[str, Any], alarm: AlarmDef, a: AnomalyBand, statistic: str, period: int, dims: dict[str, Any],
             logical: str, threshold: float) -> list[Any]:
    props.pop("Threshold", None)
    props["ComparisonOperator"] = BAND_OPERATORS[alarm.policy.comparison]
    props["ThresholdMetricId"] = "ad1"
    props["Metrics"] = [
        MetricDataQuery(Id="m1", MetricStat=MetricStat(Metric=_metric(a.namespace, a.name, dims), Period=period,
                                                       Stat=statistic)),
        MetricDataQuery(Id="ad1", Expression=band_expression(threshold), Label=f"{a.name} (expected band)"),
    ]
    detector: dict[str, Any] = {"Namespace": a.namespace, "MetricName": a.name, "Stat": statistic}
    if dims:
        detector["Dimensions"] = _dimensions(dims)
    if a.excluded or a.timezone:
        config: dict[str, Any] = {}
        if a.excluded:
            config["ExcludedTimeRanges"] = [Range(StartTime=start, EndTime=end) for start, end in a.excluded]
        if a.timezone:
            config["MetricTimeZone"] = a.timezone
        detector["Configuration"] = Configuration(**config)
    return [AnomalyDetector(logical.removesuffix("Alarm") + "Detector", **detector)]
