"""AWS limits and rules mlmon respects (CloudWatch, CloudFormation, EventBridge, SNS): flat constants
and small pure functions, the lowest layer (imports nothing from mlmon).

Sources: ../shared/reference/aws-ml-facts-2.md §8 (2026 alarm features) and §10 (SNS).
"""

from __future__ import annotations

import re

# WarmUpConfiguration (Alarm, LogAlarm): 1 to 2,880 minutes; the API requires the duration.
WARM_UP_MINUTES_MIN = 1
WARM_UP_MINUTES_MAX = 2_880

# AWS::CloudWatch::AlarmMuteRule: the API takes at most 100 alarm names per rule (the CFN schema
# allows 500, so 101 to 500 pass cfn-lint and fail at deploy). Expression cron(...) or at(...),
# 1 to 256 characters; Duration ISO 8601 from PT1M to P15D.
MUTE_RULE_MAX_ALARMS = 100
MUTE_EXPRESSION_MAX = 256
MUTE_DURATION_MIN_MINUTES = 1
MUTE_DURATION_MAX_MINUTES = 15 * 24 * 60
MUTE_DESCRIPTION_MAX = 1_024
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_SCHEDULE = re.compile(r"^(cron|at)\(.+\)$")

# CompositeAlarm ActionsSuppressor: wait and extension periods in seconds (both required with it).
SUPPRESSOR_WAIT_SECONDS = 120
SUPPRESSOR_EXTENSION_SECONDS = 300


def duration_minutes(text: str) -> int | None:
    """Minutes of an ISO 8601 duration of days, hours and minutes (P1D, PT2H, PT90M), or None."""
    m = _DURATION.match(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    return days * 1440 + hours * 60 + minutes


def mute_schedule_problem(expression: str) -> str:
    """Why a mute rule's schedule expression is refused ('' when fine)."""
    if not _SCHEDULE.match(expression):
        return "expected cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or at(<yyyy-mm-ddThh:mm:ss>)"
    if len(expression) > MUTE_EXPRESSION_MAX:
        return f"at most {MUTE_EXPRESSION_MAX} characters"
    return ""


def mute_duration_problem(text: str) -> str:
    """Why a mute rule's duration is refused ('' when fine)."""
    minutes = duration_minutes(text)
    if minutes is None:
        return "expected an ISO 8601 duration such as PT2H, PT90M or P1D"
    if not MUTE_DURATION_MIN_MINUTES <= minutes <= MUTE_DURATION_MAX_MINUTES:
        return "must be from PT1M to P15D"
    return ""
