"""Proposed thresholds from an alarm's own history, and the backtest of current vs proposed.

The proposal (static-threshold alarms on one metric):
- upper-bound alarms (>, >=): the baseline's noise is the 99th percentile of the period values
  over the history (what the metric exceeds 1 % of the time: short spikes and incidents are
  rarer than that); the proposal is that level plus `MARGIN`, rounded up to two significant
  digits, and never at or below the noise for `>=`;
- lower-bound alarms (<, <=): the 1st percentile minus the margin, rounded down; none when the
  baseline itself reaches 0 (the metric goes quiet as part of normal behaviour).
The backtest runs CloudWatch's rules (`evaluation`) over the same history with the alarm's own
period, M out of N and missing-data treatment, for both thresholds, and lists the episodes only
one of them has: episodes only the current threshold has are either noise the proposal removes
or incidents it would miss, so they are shown with their times for the team to check.

Pure: the series and the clock come from the caller (mlmon_cli/aws/history.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .evaluation import UPPER, Episode, episodes, overlapping

MARGIN = 0.2  # 20 % above the baseline's noise (below it for lower-bound alarms)
NOISE_QUANTILE = 0.99
MIN_DATAPOINTS = 24  # fewer real datapoints than this: too little history to propose anything
STANDARD = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True)
class AlarmConfig:
    """What a deployed metric alarm evaluates (from DescribeAlarms)."""

    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    comparison: str
    threshold: float
    m: int
    n: int
    treat: str
    skip: str = ""  # why it is not backtested (metric math, anomaly band, an event alarm)

    @property
    def metric(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace} {self.metric_name}" + (f" ({dims})" if dims else "")

    @property
    def upper(self) -> bool:
        return self.comparison in UPPER


def alarm_config(alarm: dict[str, Any]) -> AlarmConfig:
    """An `AlarmConfig` from one `MetricAlarms` entry of DescribeAlarms."""
    dims = tuple((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or [])
    stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "?"
    n = int(alarm.get("EvaluationPeriods") or 1)
    skip = ""
    if alarm.get("Metrics"):
        skip = "metric math or anomaly band: not backtested"
    elif alarm.get("Namespace") == "AWS/Events":
        skip = "one EventBridge event is one failure: keeps alarming on the first"
    elif "Threshold" not in alarm:
        skip = "no static threshold"
    return AlarmConfig(
        name=alarm["AlarmName"], namespace=alarm.get("Namespace", ""), metric_name=alarm.get("MetricName", ""),
        dimensions=dims, statistic=stat, period=int(alarm.get("Period") or 60),
        comparison=alarm.get("ComparisonOperator", "GreaterThanThreshold"), threshold=float(alarm.get("Threshold", 0.0)),
        m=int(alarm.get("DatapointsToAlarm") or n), n=n, treat=alarm.get("TreatMissingData") or "missing", skip=skip,
    )


@dataclass(frozen=True)
class Series:
    """One value per period from `start` (None = no datapoint), as the alarm's statistic."""

    start: datetime
    period: int
    values: tuple[float | None, ...]

    def at(self, index: int) -> datetime:
        return self.start + timedelta(seconds=self.period * index)

    @property
    def present(self) -> list[float]:
        return [v for v in self.values if v is not None]


@dataclass
class Suggestion:
    """One alarm's row of the report."""

    config: AlarmConfig
    proposed: float | None = None
    basis: str = ""
    datapoints: int = 0
    current_episodes: list[Episode] = field(default_factory=list)
    proposed_episodes: list[Episode] = field(default_factory=list)
    series: Series | None = None
    note: str = ""

    @property
    def changes(self) -> bool:
        """Worth writing into the spec: a different threshold that adds no episode to the history."""
        return (self.proposed is not None and self.proposed != self.config.threshold
                and len(self.proposed_episodes) <= len(self.current_episodes))

    def episode_times(self, found: Sequence[Episode]) -> list[dict[str, str]]:
        assert self.series is not None
        return [{"start": _iso(self.series.at(e.start)), "end": _iso(self.series.at(e.end))} for e in found]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default method) of non-empty values."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def round_up(value: float, digits: int = 2) -> float:
    """`value` rounded up to `digits` significant digits (96,123 -> 97,000; 2.41 -> 2.5)."""
    return _round(value, digits, ROUND_CEILING)


def round_down(value: float, digits: int = 2) -> float:
    return _round(value, digits, ROUND_FLOOR)


def _round(value: float, digits: int, how: str) -> float:
    if value == 0:
        return 0.0
    exact = Decimal(repr(float(value)))
    return float(exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), rounding=how))


def propose(config: AlarmConfig, present: Sequence[float]) -> tuple[float | None, str]:
    """(proposed threshold, how it was derived) from the period values of the history."""
    if len(present) < MIN_DATAPOINTS:
        return None, f"{len(present)} datapoint(s) in the history: too few to propose (need {MIN_DATAPOINTS})"
    if config.upper:
        noise = quantile(present, NOISE_QUANTILE)
        target = round_up(noise * (1 + MARGIN))
        if all(float(v).is_integer() for v in present):  # counts: the next whole number says the same, and reads better
            target = float(math.ceil(target))
        if target == 0 and config.comparison == "GreaterThanOrEqualToThreshold":  # a quiet baseline: the first non-zero value
            target = round_up(min((v for v in present if v > 0), default=1.0))
        return target, f"p99 of the history {_num(noise)} + {int(MARGIN * 100)} %"
    noise = quantile(present, 1 - NOISE_QUANTILE)
    if noise <= 0:
        return None, "the baseline reaches 0: no lower bound to propose"
    target = round_down(noise * (1 - MARGIN))
    if all(float(v).is_integer() for v in present):
        target = float(math.floor(target))
    return target, f"p1 of the history {_num(noise)} - {int(MARGIN * 100)} %"


def suggest(config: AlarmConfig, series: Series | None) -> Suggestion:
    """Proposal and backtest for one alarm."""
    out = Suggestion(config, series=series)
    if config.skip:
        out.note = config.skip
        return out
    if series is None:
        out.note = "no metric history returned"
        return out
    out.datapoints = len(series.present)
    run = (config.comparison, config.m, config.n, config.treat)
    out.current_episodes = episodes(series.values, run[0], config.threshold, *run[1:])
    out.proposed, out.basis = propose(config, series.present)
    if out.proposed is None:
        out.note = out.basis
        return out
    out.proposed_episodes = episodes(series.values, run[0], out.proposed, *run[1:])
    return out


def kept(s: Suggestion) -> list[Episode]:
    """Current episodes the proposed threshold also has."""
    return overlapping(s.current_episodes, s.proposed_episodes)


def _num(value: float) -> str:
    return f"{value:.6g}"
