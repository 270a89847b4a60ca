"""Resolve one alarm's effective settings: spec override > spec defaults > built-in table.

Used twice on purpose: by the spec converter (so cross-field problems get a location) and by
the template builder (so both agree on the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..components.base import AlarmDef, Component
from ..spec.model import AlarmDefaults, AlarmOverride

ONE_DAY = 86_400
SEVEN_DAYS = 604_800


@dataclass(frozen=True)
class AlarmSettings:
    """The numbers an alarm is built with; `threshold` is in the spec's natural unit."""

    enabled: bool
    threshold: float | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    statistic: str
    treat_missing_data: str
    notify: bool | None
    severity: str = "critical"
    runbook_url: str | None = None


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def resolve_settings(component: Component, options: Any, alarm: AlarmDef, override: AlarmOverride, defaults: AlarmDefaults) -> AlarmSettings:
    """Apply the fallback chain for one alarm of one component."""
    return AlarmSettings(
        enabled=_first(override.enabled, alarm.enabled) and component.applies(options, alarm),
        threshold=override.threshold if override.threshold is not None else component.default_threshold(options, alarm),
        period=_first(override.period, defaults.period, alarm.period),
        evaluation_periods=_first(override.evaluation_periods, defaults.evaluation_periods, alarm.evaluation_periods),
        datapoints_to_alarm=_first(override.datapoints_to_alarm, defaults.datapoints_to_alarm, alarm.datapoints_to_alarm),
        statistic=_first(override.statistic, alarm.statistic),
        treat_missing_data=_first(override.treat_missing_data, defaults.treat_missing_data, alarm.treat_missing_data),
        notify=override.notify,
        severity=_first(override.severity, alarm.severity),
        runbook_url=override.runbook_url,
    )


def settings_problems(s: AlarmSettings, alarm: AlarmDef) -> list[str]:
    """Cross-field rules CloudWatch enforces at deploy time (and cfn-lint does not)."""
    if not s.enabled:
        return []
    problems = []
    if s.threshold is None:
        problems.append(f"needs a threshold ({alarm.unit}): set 'threshold', derive it from an option (see the "
                        "README's alarm table), or disable it with 'enabled: false'")
    if s.datapoints_to_alarm > s.evaluation_periods:
        problems.append(f"datapoints_to_alarm ({s.datapoints_to_alarm}) must not exceed evaluation_periods ({s.evaluation_periods})")
    limit = ONE_DAY if s.period < 3600 else SEVEN_DAYS
    if s.period * s.evaluation_periods > limit:
        problems.append(f"period x evaluation_periods = {s.period * s.evaluation_periods} s exceeds CloudWatch's "
                        f"{limit} s limit for {'periods under an hour' if limit == ONE_DAY else 'any alarm'}")
    return problems
