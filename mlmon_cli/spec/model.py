"""The validated spec as frozen dataclasses: what the pure core consumes.

Field metadata carries the documentation (`doc`, `unit`) so the README's spec reference and
`mlmon kinds` are generated from the same source the converter validates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location

TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


def doc(text: str, **extra: Any) -> dict[str, Any]:
    """Field metadata helper: `field(default=..., metadata=doc("..."))`."""
    return {"doc": text, **extra}


@dataclass(frozen=True)
class AlarmOverride:
    """Per-alarm settings a spec may give; None means 'use the next level of defaults'."""

    enabled: bool | None = field(default=None, metadata=doc("Create this alarm (`false` disables it)."))
    threshold: float | None = field(
        default=None, metadata=doc("Threshold in the alarm's natural unit (see the alarm table: count, ms, fraction, percent).")
    )
    period: int | None = field(default=None, metadata=doc("Seconds per datapoint: 10, 30 or a multiple of 60.", unit="s"))
    evaluation_periods: int | None = field(default=None, metadata=doc("Number of periods evaluated (N of 'M out of N')."))
    datapoints_to_alarm: int | None = field(default=None, metadata=doc("Breaching periods needed to alarm (M of 'M out of N')."))
    statistic: str | None = field(
        default=None, metadata=doc("Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p90 or p99.9.")
    )
    treat_missing_data: str | None = field(
        default=None, metadata=doc("breaching, notBreaching, ignore or missing.", choices=TREAT_MISSING_DATA)
    )
    notify: bool | None = field(
        default=None, metadata=doc("Send this alarm's own state changes to the topic (default: `notifications.notify_alarms`).")
    )


@dataclass(frozen=True)
class AlarmDefaults:
    """Solution-wide defaults; they override built-in defaults and are overridden per alarm."""

    period: int | None = field(default=None, metadata=doc("Default period for every alarm.", unit="s"))
    evaluation_periods: int | None = field(default=None, metadata=doc("Default evaluation periods for every alarm."))
    datapoints_to_alarm: int | None = field(default=None, metadata=doc("Default datapoints to alarm for every alarm."))
    treat_missing_data: str | None = field(
        default=None, metadata=doc("Default missing-data treatment for every alarm.", choices=TREAT_MISSING_DATA)
    )


@dataclass(frozen=True)
class Notifications:
    """Where alarms and events go."""

    emails: tuple[str, ...] = field(default=(), metadata=doc("Email addresses subscribed to the solution's new SNS topic."))
    topic_arn: str | None = field(
        default=None,
        metadata=doc("Use this existing SNS topic instead of creating one (its policy and key must allow CloudWatch and EventBridge)."),
    )
    notify_alarms: bool = field(default=False, metadata=doc("Child alarms notify too, not only composites."))
    notify_solution: bool = field(
        default=False, metadata=doc("The solution-wide composite notifies too (component composites always do).")
    )


@dataclass(frozen=True)
class ComponentSpec:
    """One watched AWS resource: its kind, name, kind-specific options and alarm overrides."""

    kind: str
    name: str
    options: Any
    alarms: dict[str, AlarmOverride]
    description: str
    location: Location


@dataclass(frozen=True)
class Spec:
    """A whole validated spec."""

    solution: str
    description: str
    notifications: Notifications
    defaults: AlarmDefaults
    components: tuple[ComponentSpec, ...]
    source: str
