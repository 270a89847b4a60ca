"""CloudWatch's alarm evaluation rules as pure functions, for backtests.

Source: AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html, "Configuring how CloudWatch
alarms treat missing data" and "Avoiding premature transitions to alarm state":

- Each evaluation reads an *evaluation range* of recent periods, longer than Evaluation Periods
  (N) "in case some of the most recent data points are missing". AWS's worked example (5-minute
  periods, N = 3) uses 5; the exact length "depends on the length of the alarm period" and is
  not published, so `EXTRA_PERIODS` = 2 follows the example.
- At least N real datapoints in the range: the N most recent real ones are judged, and the
  missing-data treatment is not used.
- Fewer: the shortfall (only that many) is filled by the treatment (`breaching`,
  `notBreaching`); every real datapoint of the range is included.
- `missing`: nothing in the range -> INSUFFICIENT_DATA; `ignore`: nothing -> the state is kept.
- M (Datapoints to Alarm) or more breaching of the N judged -> ALARM, else OK.
- Premature-alarm rule (treatment `missing`): when every real datapoint of the range breaches
  and the oldest breaching one within the last N periods is at least M periods old, the alarm
  goes to ALARM even with fewer than M datapoints; `ignore` keeps the state in that case.

Both of AWS's tables (3 of 3 and 2 of 3) are tests in tests/test_suggest.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
EXTRA_PERIODS = 2

_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
UPPER = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")


def breaches(value: float, comparison: str, threshold: float) -> bool:
    """Whether one datapoint breaches (a ComparisonOperator of a static-threshold alarm)."""
    return _COMPARE[comparison](value, threshold)


def evaluate(marks: Sequence[bool | None], m: int, n: int, treat: str, current: str = INSUFFICIENT) -> str:
    """The alarm state after one evaluation of an evaluation range, oldest first: True = a
    breaching datapoint, False = a datapoint within the threshold, None = missing."""
    if treat not in TREATMENTS:
        raise ValueError(f"unknown TreatMissingData {treat!r}")
    real = [b for b in marks if b is not None]
    if not real:
        return {"missing": INSUFFICIENT, "ignore": current, "breaching": ALARM, "notBreaching": OK}[treat]
    if len(real) >= n:
        return ALARM if sum(real[-n:]) >= m else OK
    if treat in ("missing", "ignore") and all(real) and _oldest_breach_age(marks, n) >= m:
        return ALARM if treat == "missing" else current
    fill = n - len(real)
    judged = sum(real) + (fill if treat == "breaching" else 0)
    return ALARM if judged >= m else OK


def _oldest_breach_age(marks: Sequence[bool | None], n: int) -> int:
    """Age (1 = the most recent period) of the oldest breaching datapoint within the last n periods; 0 if none."""
    recent = list(marks[-n:])
    for i, mark in enumerate(recent):
        if mark:
            return len(recent) - i
    return 0


@dataclass(frozen=True)
class Episode:
    """A run of consecutive evaluations in ALARM: [start, end) in period indexes of the series."""

    start: int
    end: int

    def overlaps(self, other: Episode) -> bool:
        return self.start < other.end and other.start < self.end


def states(values: Sequence[float | None], comparison: str, threshold: float, m: int, n: int, treat: str,
           initial: str = INSUFFICIENT) -> list[str]:
    """The state after each period of a series (one value per period, None = missing), evaluating
    at the end of every period as CloudWatch does for datapoint-aligned changes."""
    marks = [None if v is None else breaches(v, comparison, threshold) for v in values]
    width = n + EXTRA_PERIODS
    state = initial
    out = []
    for i in range(len(marks)):
        state = evaluate(marks[max(0, i + 1 - width): i + 1], m, n, treat, state)
        out.append(state)
    return out


def episodes(values: Sequence[float | None], comparison: str, threshold: float, m: int, n: int, treat: str) -> list[Episode]:
    """Every time the alarm would have gone to ALARM over the series, as episodes."""
    found: list[Episode] = []
    start = None
    for i, state in enumerate(states(values, comparison, threshold, m, n, treat)):
        if state == ALARM and start is None:
            start = i
        elif state != ALARM and start is not None:
            found.append(Episode(start, i))
            start = None
    if start is not None:
        found.append(Episode(start, len(values)))
    return found


def overlapping(a: Sequence[Episode], b: Sequence[Episode]) -> list[Episode]:
    """The episodes of `a` that overlap at least one of `b`."""
    return [e for e in a if any(e.overlaps(o) for o in b)]
