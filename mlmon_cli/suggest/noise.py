"""The noise report: from 30 days of alarm history (DescribeAlarmHistory, StateUpdate items),
which alarms changed state most and how many messages each alarm with actions sent.

A message is one state change into a state that has SNS actions (ALARM: AlarmActions, OK:
OKActions, INSUFFICIENT_DATA: InsufficientDataActions), once per topic; mlmon's alarm-history
topic pages nobody and is not counted. CloudWatch keeps alarm history for 30 days
(AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html; aws-ml-facts-3 §1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..naming import HISTORY_TOPIC_SUFFIX

HISTORY_DAYS = 30
_SUMMARY = re.compile(r"from (\w+) to (\w+)")
_ACTIONS = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


@dataclass(frozen=True)
class Noise:
    alarm: str
    kind: str  # metric | composite
    changes: int  # state changes in the history
    to_alarm: int  # of which into ALARM
    messages: int  # SNS messages its actions sent (per topic)


def transition(item: dict[str, Any]) -> tuple[str, str] | None:
    """(old state, new state) of one StateUpdate history item."""
    try:
        data = json.loads(item.get("HistoryData") or "{}")
        return data["oldState"]["stateValue"], data["newState"]["stateValue"]
    except (ValueError, KeyError, TypeError):
        found = _SUMMARY.search(item.get("HistorySummary") or "")
        return (found.group(1), found.group(2)) if found else None


def people_topics(alarm: dict[str, Any], state: str) -> list[str]:
    """The SNS topics an alarm's actions for `state` publish to, without mlmon's history topic."""
    if alarm.get("ActionsEnabled") is False:
        return []
    return [a for a in alarm.get(_ACTIONS[state]) or [] if a.startswith("arn:") and a.split(":")[2] == "sns"
            and not a.endswith(f"-{HISTORY_TOPIC_SUFFIX}")]


def noise_report(history: dict[str, list[dict[str, Any]]], alarms: dict[str, dict[str, Any]]) -> list[Noise]:
    """One row per alarm, the noisiest (most state changes, then most messages) first."""
    rows = []
    for name, alarm in alarms.items():
        moves = [t for t in (transition(i) for i in history.get(name, []) if i.get("HistoryItemType", "StateUpdate") == "StateUpdate") if t]
        moves = [(old, new) for old, new in moves if old != new]
        messages = sum(len(people_topics(alarm, new)) for _, new in moves if new in _ACTIONS)
        rows.append(Noise(name, alarm.get("_kind", "metric"), len(moves), sum(new == "ALARM" for _, new in moves), messages))
    return sorted(rows, key=lambda r: (-r.changes, -r.messages, r.alarm))
