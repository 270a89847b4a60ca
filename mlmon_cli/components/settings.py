"""Resolve one alarm's effective settings: spec override > spec defaults > built-in table.

One function for the validation phase (core/validate.py, which locates the problems) and the
builder (which uses the numbers), so both always agree.
"""

from __future__ import annotations

from typing import Any

from ..limits import alarm_window_problems
from ..spec.model import AlarmDefaults, AlarmOverride
from .base import AlarmDef, AlarmSettings, Component

__all__ = ["AlarmSettings", "resolve_settings", "settings_problems"]


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def resolve_settings(component: Component, options: Any, alarm: AlarmDef, override: AlarmOverride, defaults: AlarmDefaults) -> AlarmSettings:
    """Apply the fallback chain for one alarm of one component."""
    policy = alarm.policy
    return AlarmSettings(
        enabled=_first(override.enabled, component.default_enabled(options, alarm)) and component.applies(options, alarm),
        threshold=override.threshold if override.threshold is not None else component.default_threshold(options, alarm),
        period=_first(override.period, defaults.period, policy.period),
        evaluation_periods=_first(override.evaluation_periods, defaults.evaluation_periods, policy.evaluation_periods),
        datapoints_to_alarm=_first(override.datapoints_to_alarm, defaults.datapoints_to_alarm, policy.datapoints_to_alarm),
        statistic=_first(override.statistic, alarm.metric.statistic),
        treat_missing_data=_first(override.treat_missing_data, defaults.treat_missing_data, policy.treat_missing_data),
        notify=override.notify,
        severity=_first(override.severity, policy.severity),
        runbook_url=override.runbook_url,
    )


def settings_problems(s: AlarmSettings, alarm: AlarmDef) -> list[str]:
    """What CloudWatch would refuse at deploy time (and cfn-lint does not check) about these numbers."""
    if not s.enabled:
        return []
    problems = []
    if s.threshold is None:
        problems.append(f"needs a threshold ({alarm.metric.unit}): set 'threshold', derive it from an option (see the "
                        "alarm tables in docs/kinds.md), or disable it with 'enabled: false'")
    return problems + alarm_window_problems(s.period, s.evaluation_periods, s.datapoints_to_alarm)
