"""Quiet windows: `notifications.quiet_windows` as AWS::CloudWatch::AlarmMuteRule resources.

A mute rule mutes the *actions* of the alarms it names while its schedule is open; the alarms
keep evaluating and changing state, so an incident that outlasts the window notifies when its
alarm next changes state, and the dashboard shows everything meanwhile (aws-ml-facts-2.md §8.1).
The rules name every alarm and composite that notifies people (the quiet ones only write to the
alarm-history topic) except the alert path's own alarms, at most 100 per rule (the API's limit; CloudFormation's schema allows 500).
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Template
from troposphere.cloudwatch import AlarmMuteRule, MuteTargets, Rule, Schedule

from .. import limits, naming
from ..spec.model import Spec

PEOPLE_ACTIONS = ("AlarmActions", "OKActions")


def notifying_alarms(t: Template, history: Any) -> list[str]:
    """Logical IDs of the alarms and composites in `t` whose actions reach a topic other than `history`."""
    found = []
    for logical, r in t.resources.items():
        if r.resource_type not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            continue
        actions = [a for key in PEOPLE_ACTIONS for a in r.properties.get(key, [])]
        if any(a != history for a in actions) and not naming.is_alert_path_alarm(logical):
            found.append(logical)  # the alert path's own alarms stay loud: a broken topic is news in any window
    return found


def add_quiet_windows(t: Template, spec: Spec, pending: Any, result: Any) -> None:
    """One mute rule per window and per 100 notifying alarms, in the template that holds them."""
    windows = spec.notifications.quiet_windows
    if not windows:
        return
    history = Ref(naming.HISTORY_TOPIC_ID)
    for tpl in [t, *result.nested.values()]:
        targets = notifying_alarms(tpl, history)
        for window in windows:
            chunks = [targets[i:i + limits.MUTE_RULE_MAX_ALARMS] for i in range(0, len(targets), limits.MUTE_RULE_MAX_ALARMS)]
            for number, chunk in enumerate(chunks, start=1):
                suffix = [str(number)] if len(chunks) > 1 else []
                schedule = {"Expression": window.schedule, "Duration": window.duration}
                if window.timezone:
                    schedule["Timezone"] = window.timezone
                tpl.add_resource(AlarmMuteRule(
                    naming.quiet_window_id(window.name, *suffix),
                    Name=naming.mute_rule_name(spec.solution, window.name, *suffix),
                    Description=(f"{spec.solution}: quiet window '{window.name}' ({window.schedule} for {window.duration}); "
                                 "the alarms keep evaluating, only their notifications are muted")[:limits.MUTE_DESCRIPTION_MAX],
                    Rule=Rule(Schedule=Schedule(**schedule)),
                    MuteTargets=MuteTargets(AlarmNames=[Ref(logical) for logical in chunk]),
                ))
