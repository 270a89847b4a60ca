"""`mlmon suggest` output: a table for people, JSON for CI, Markdown for a pull request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .noise import Noise
from .patch import number
from .propose import Suggestion, kept
from .spec_keys import SpecThreshold

SYMBOLS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
           "LessThanOrEqualToThreshold": "<="}


@dataclass
class Report:
    stack: str
    days: float
    suggestions: list[Suggestion]
    keys: dict[str, SpecThreshold]
    noise: list[Noise] | None = None  # None: alarm history could not be read
    notes: list[str] = field(default_factory=list)

    def changes(self) -> dict[int, dict[str, float]]:
        """components[i].alarms.<key>.threshold -> the proposal in spec units; for an alarm built
        per target (e.g. each endpoint variant), the proposal of the loudest target."""
        out: dict[int, dict[str, float]] = {}
        for s in self.suggestions:
            key = self.keys.get(s.config.name)
            if key is None or not s.changes or s.proposed is None:
                continue
            value = key.to_spec(s.proposed)
            keys = out.setdefault(key.component_index, {})
            previous = keys.get(key.key)
            keys[key.key] = value if previous is None else (max if s.config.upper else min)(previous, value)
        return out


def _threshold(s: Suggestion, value: float | None) -> str:
    return "-" if value is None else f"{SYMBOLS.get(s.config.comparison, '?')} {number(value)}"


def rows(report: Report) -> list[dict[str, Any]]:
    """One object per alarm (metric and composite) for --format json."""
    noise = {n.alarm: n for n in report.noise or []}
    out = []
    for s in report.suggestions:
        c = s.config
        key = report.keys.get(c.name)
        row: dict[str, Any] = {
            "alarm": c.name, "kind": "metric", "metric": c.metric, "statistic": c.statistic, "period": c.period,
            "comparison": c.comparison, "datapoints_to_alarm": c.m, "evaluation_periods": c.n, "treat_missing_data": c.treat,
            "current_threshold": c.threshold, "proposed_threshold": s.proposed, "basis": s.basis or None,
            "datapoints": s.datapoints, "current_episodes": len(s.current_episodes), "proposed_episodes": len(s.proposed_episodes),
            "overlapping_episodes": len(kept(s)), "change": s.changes,
            "spec_path": key.path if key else None,
            "spec_threshold": key.to_spec(s.proposed) if key and s.proposed is not None else None,
            "note": s.note or None,
        }
        if s.series is not None and not c.skip:
            row["only_current"] = s.episode_times([e for e in s.current_episodes if e not in kept(s)])
            row["only_proposed"] = s.episode_times([e for e in s.proposed_episodes if not any(e.overlaps(o) for o in s.current_episodes)])
        _add_noise(row, noise.pop(c.name, None))
        out.append(row)
    for name, n in sorted(noise.items()):
        row = {"alarm": name, "kind": n.kind, "metric": None, "current_threshold": None, "proposed_threshold": None,
               "current_episodes": None, "proposed_episodes": None}
        _add_noise(row, n)
        out.append(row)
    return out


def _add_noise(row: dict[str, Any], n: Noise | None) -> None:
    row["state_changes_30d"] = n.changes if n else None
    row["alarms_30d"] = n.to_alarm if n else None
    row["messages_30d"] = n.messages if n else None


def to_json(report: Report) -> str:
    return json.dumps(rows(report), indent=2, sort_keys=False) + "\n"


def _table_rows(report: Report) -> list[list[str]]:
    out = []
    for s in report.suggestions:
        c = s.config
        episodes = "-" if c.skip or s.series is None else f"{len(s.current_episodes)} -> " + (
            str(len(s.proposed_episodes)) if s.proposed is not None else "-")
        note = s.note or (f"{len(kept(s))} kept; " + ("write" if s.changes else "keep current") + f"; {s.basis}")
        out.append([c.name, f"{c.statistic} {c.metric_name} /{c.period}s {c.m}of{c.n}", _threshold(s, c.threshold),
                    _threshold(s, s.proposed), episodes, note])
    return out


HEADER = ["ALARM", "EVALUATES", "CURRENT", "PROPOSED", "EPISODES", "NOTE"]
NOISE_HEADER = ["ALARM", "KIND", "STATE CHANGES", "INTO ALARM", "MESSAGES"]


def to_table(report: Report) -> str:
    title = (f"Backtest over {number(report.days)} days of {report.stack}'s metric history "
             "(episodes: times the alarm would have gone to ALARM, current -> proposed):")
    lines = [title, ""]
    lines += _columns(HEADER, _table_rows(report))
    lines += ["", *_noise_lines(report, markdown=False)]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def to_markdown(report: Report) -> str:
    intro = ("Episodes: how many times the alarm would have gone to ALARM under CloudWatch's rules (its own period, "
             "M of N and missing-data treatment), current -> proposed.")
    lines = [f"## Thresholds from {number(report.days)} days of history: {report.stack}", "", intro, ""]
    lines += _markdown(HEADER, _table_rows(report))
    lines += ["", *_noise_lines(report, markdown=True)]
    lines += [f"- {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def _noise_lines(report: Report, markdown: bool) -> list[str]:
    title = "Noise over the last 30 days of alarm history (DescribeAlarmHistory):"
    if report.noise is None:
        return [("### " if markdown else "") + title, "", "alarm history could not be read (see the notes)"]
    shown = [n for n in report.noise if n.changes]
    body = [[n.alarm, n.kind, str(n.changes), str(n.to_alarm), str(n.messages)] for n in shown]
    if not body:
        return [("### " if markdown else "") + title, "", "no state changes"]
    return [("### " if markdown else "") + title, "", *(_markdown if markdown else _columns)(NOISE_HEADER, body)]


def _columns(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)), r[-1]]).rstrip() for r in [header, *body]]


def _markdown(header: list[str], body: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return [line(header), line(["---"] * len(header)), *(line(r) for r in body)]
