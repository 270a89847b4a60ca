"""`custom_alarms` (mlmon_cli/spec/custom.py, which reads them into the alarm model) as `ExtraAlarm`s:
built, named, described and rolled up by the same code as every built-in alarm (build._add_metric_alarm);
a metric-math expression or an anomaly band becomes a `Metrics` alarm there (core/metric_math.py)."""

from __future__ import annotations

from ..components.base import ExtraAlarm
from ..spec.model import ComponentSpec


def custom_alarms(comp: ComponentSpec) -> list[ExtraAlarm]:
    return [ExtraAlarm(c.alarm, dict(c.alarm.metric.fixed)) for c in comp.custom_alarms]
