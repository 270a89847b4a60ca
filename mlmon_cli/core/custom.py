"""`custom_alarms` (mlmon_cli/spec/custom.py) as `ExtraAlarm`s: built, named, described and rolled
up by the same code as every built-in alarm (build._add_metric_alarm); a metric-math expression or
an anomaly band becomes a `Metrics` alarm there (core/metric_math.py)."""

from __future__ import annotations

from ..components.base import MLMON_DEFAULT, AlarmDef, AnomalyDef, ExtraAlarm, MathDef, MathMetric
from ..spec.model import ComponentSpec

SETTLE = "aws cloudwatch list-metrics --namespace {namespace} --metric-name {metric}"


def custom_alarms(comp: ComponentSpec) -> list[ExtraAlarm]:
    return [ExtraAlarm(_alarm(c), dict(c.dimensions)) for c in comp.custom_alarms]


def _alarm(c) -> AlarmDef:  # c: spec.custom.CustomAlarm
    math = anomaly = None
    namespace, metric = c.namespace, c.metric
    caveat = ""
    if c.expression:
        math = MathDef(c.expression, tuple(MathMetric(m.id, m.metric, m.statistic, m.namespace, m.dimensions) for m in c.metrics),
                       label=c.name)
        namespace = ", ".join(dict.fromkeys(m.namespace for m in c.metrics))
        metric = f"{c.expression} where " + ", ".join(f"{m.id} = {m.statistic} of {m.metric}" for m in c.metrics)
    if c.anomaly is not None:
        anomaly = AnomalyDef(c.anomaly.band, c.anomaly.direction, c.anomaly.excluded, c.anomaly.timezone)
        caveat = "Anomaly band from an AWS::CloudWatch::AnomalyDetector trained on this metric (about two weeks of data)"
        if c.anomaly.excluded:
            caveat += "; excluded time ranges: " + ", ".join(f"{s} to {e}" for s, e in c.anomaly.excluded)
        caveat += "."
    elif not c.expression:
        caveat = f"Custom metric: check it exists with '{SETTLE.format(namespace=namespace, metric=metric)}'."
    return AlarmDef(
        key=f"custom_{c.name}", suffix=f"Custom-{c.name}", metric=metric, namespace=namespace,
        statistic=c.statistic if not c.expression else "expression",
        comparison=c.comparison, threshold=c.threshold if anomaly is None else c.anomaly.band,
        unit=c.unit if anomaly is None else "sd",
        why=c.why or f"custom alarm '{c.name}' breached", first_step=c.first_step or "open the metric in CloudWatch and compare with recent changes",
        period=c.period, evaluation_periods=c.evaluation_periods, datapoints_to_alarm=c.datapoints_to_alarm,
        treat_missing_data=c.treat_missing_data, severity=c.severity, source=MLMON_DEFAULT if not c.why else "defined in the spec",
        caveat=caveat, math=math, anomaly=anomaly,
    )
