"""The alarm model: what is measured, how it is judged, and what a reader is told.

Three parts, the way monitoring libraries split them (a metric factory and an alarm factory):

- a *metric*: `Metric` (namespace, name, statistic, dimensions), `MetricMath` (an expression over
  metrics) or `AnomalyBand` (a metric and the band an anomaly detector learns for it). The
  dashboard graphs metrics; alarms point at them;
- an `AlarmPolicy`: comparison, threshold, period, M of N, missing data, severity, on by default
  or not. One metric may carry several policies (a warning and a critical one: `tiers`);
- `AlarmDocs`: why it matters, the first step, where the threshold comes from, a caveat.

`AlarmDef` is one alarm: a key (the spec's name for it), a suffix (its name in AWS), its metric,
policy and docs, and for state-change alarms the EventBridge rule it watches. Built-in kinds'
tables, `custom_alarms:` (spec/custom.py), Model Monitor and log-pattern alarms all produce these
same objects; the builder (core/build.py) is the only reader that turns them into CloudFormation.

This module is in the foundation layer so the spec layer (custom alarms) can build them too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["AWS_RECOMMENDED", "MLMON_DEFAULT", "AlarmDef", "AlarmDocs", "AlarmPolicy", "AnomalyBand", "EventDef", "Measured",
           "Metric", "MetricMath", "tiers"]

MLMON_DEFAULT = "mlmon default (AWS publishes no recommended alarm for this metric)"
AWS_RECOMMENDED = "AWS recommended alarm (CloudWatch 'Recommended alarms'), adapted"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric series.

    `dimensions`: the dimension names this metric takes out of the component's target (a SageMaker
    variant, a function); None takes them all, () none (an account-wide metric). `fixed`: dimension
    values the series always carries (Glue `Type=count`), or, for alarms not built per target
    (custom, Model Monitor, staleness), the whole dimension set. `unit` is the unit thresholds are
    written in (it validates them and names them in descriptions); `scale` converts a threshold in
    that unit to the metric's own (ms -> µs: 1000).
    """

    namespace: str
    name: str
    statistic: str
    unit: str = "count"
    scale: float = 1.0
    dimensions: tuple[str, ...] | None = None
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def members(self) -> tuple[Metric, ...]:
        return (self,)


@dataclass(frozen=True)
class MetricMath:
    """An expression CloudWatch evaluates over `metrics` (id -> Metric; at most 10). Each member's
    dimensions resolve like a plain metric's. `name` and `namespace` are how descriptions and the
    reference name it; `statistic` is what they show as its statistic."""

    expression: str
    metrics: tuple[tuple[str, Metric], ...]
    name: str
    namespace: str
    statistic: str = "expression"
    label: str = ""
    unit: str = "count"
    scale: float = 1.0
    dimensions: tuple[str, ...] | None = None
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def members(self) -> tuple[Metric, ...]:
        return tuple(m for _, m in self.metrics)


@dataclass(frozen=True)
class AnomalyBand:
    """The band an `AWS::CloudWatch::AnomalyDetector` learns for `metric`: the alarm's policy gives
    its width in standard deviations (threshold) and which side breaches (comparison `above`,
    `below` or `both`). `excluded`: (start, end) ISO-8601 ranges the model must not learn from."""

    metric: Metric
    excluded: tuple[tuple[str, str], ...] = ()
    timezone: str = ""
    unit = "sd"
    scale = 1.0

    @property
    def namespace(self) -> str:
        return self.metric.namespace

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def statistic(self) -> str:
        return self.metric.statistic

    @property
    def dimensions(self) -> tuple[str, ...] | None:
        return self.metric.dimensions

    @property
    def fixed(self) -> tuple[tuple[str, Any], ...]:
        return self.metric.fixed

    @property
    def members(self) -> tuple[Metric, ...]:
        return (self.metric,)


Measured = Metric | MetricMath | AnomalyBand


@dataclass(frozen=True)
class AlarmPolicy:
    """How a metric is judged. `threshold` is in the metric's `unit` (None: the kind derives it from
    an option, or the spec must give it); for an `AnomalyBand` it is the band width and
    `comparison` the side (above, below, both)."""

    comparison: str
    threshold: float | None
    period: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing_data: str = "notBreaching"
    severity: str = "critical"  # critical: something failed; warning: something is degrading
    enabled: bool = True


@dataclass(frozen=True)
class AlarmDocs:
    """What the alarm description tells the person it wakes."""

    why: str
    first_step: str
    source: str = MLMON_DEFAULT
    caveat: str = ""


@dataclass(frozen=True)
class EventDef:
    """An EventBridge state-change rule whose matches notify with a readable message.

    The alarm built from it watches the rule's `AWS/Events TriggeredRules`, so the event also
    takes part in the composite alarms.
    """

    source: str
    detail_type: str
    message_template: str
    input_paths: dict[str, str]
    status_field: str = ""  # the `detail` field carrying the state (spellings differ per service)
    failure_statuses: tuple[str, ...] = ()  # every value of it a failure rule may match (as the service writes it)


@dataclass(frozen=True)
class AlarmDef:
    """One failure mode: `key` (the spec's name), `suffix` (in the alarm's AWS name), the metric,
    the policy, the docs, and for a state-change alarm the rule it watches."""

    key: str
    suffix: str
    metric: Measured
    policy: AlarmPolicy
    docs: AlarmDocs
    event: EventDef | None = None

    @property
    def is_event(self) -> bool:
        return self.event is not None

    @property
    def is_multi_query(self) -> bool:
        """Metric math or an anomaly band: a `Metrics` alarm rather than one metric and statistic."""
        return not isinstance(self.metric, Metric)


def tiers(key: str, suffix: str, metric: Measured, docs: AlarmDocs, *, warning: AlarmPolicy,
          critical: AlarmPolicy) -> tuple[AlarmDef, AlarmDef]:
    """One metric judged twice: `<key>_warning` (`<suffix>Warning`) and `<key>` (critical). The
    dashboard draws the metric once with both thresholds."""
    return (AlarmDef(f"{key}_warning", f"{suffix}Warning", metric, replace(warning, severity="warning"), docs),
            AlarmDef(key, suffix, metric, replace(critical, severity="critical"), docs))
