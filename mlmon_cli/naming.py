"""Names CloudFormation and AWS accept, derived only from the component and alarm.

Every name depends on its own parts alone (never on other components or on order), so adding
or reordering components never renames, and so never replaces, a deployed resource. Names
over a limit are shortened with a stable hash of the full name, so they stay unique.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache


from .limits import ALARM_NAME_MAX, LOGICAL_ID_MAX, RULE_NAME_MAX, TARGET_ID_MAX

_HASH_LEN = 8


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]


def shorten(name: str, limit: int, sep: str = "-") -> str:
    """Return `name` if it fits, else a prefix plus a hash of the whole name (exactly `limit` long)."""
    if len(name) <= limit:
        return name
    suffix = sep + stable_hash(name)
    return name[: limit - len(suffix)] + suffix


@lru_cache(maxsize=65536)
def _pascal(part: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", part)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def logical_id(*parts: str) -> str:
    """A CloudFormation logical ID (alphanumeric, starts with a letter, at most 255 characters)."""
    text = "".join(_pascal(p) for p in parts)
    if not text or not text[0].isalpha():
        text = "X" + text
    return shorten(text, LOGICAL_ID_MAX, sep="")


def alarm_name(solution: str, *parts: str) -> str:
    """CloudWatch alarm name `solution-component-...-Suffix`, at most 255 characters."""
    return shorten("-".join([solution, *[p for p in parts if p]]), ALARM_NAME_MAX)


def rule_name(solution: str, *parts: str) -> str:
    """EventBridge rule name: at most 64 characters of `[.-_A-Za-z0-9]`."""
    raw = "-".join([solution, *[p for p in parts if p]])
    return shorten(re.sub(r"[^.\-_A-Za-z0-9]", "-", raw), RULE_NAME_MAX)


# --- Physical names of mlmon's own resources: every one is derived here, from what it names. ---

TOPIC_NAME_MAX = 256
CHATBOT_CONFIGURATION_NAME_MAX = 128
FILTER_NAME_MAX = 512
QUERY_NAME_MAX = 255
STATE_MACHINE_NAME_MAX = 80


HISTORY_TOPIC_ID = "AlarmHistoryTopic"  # logical ID (and nested-stack parameter) of that topic
HISTORY_TOPIC_SUFFIX = "alarm-history"  # <solution>-alarm-history: state changes of alarms that reach people via a composite


def topic_name(solution: str, suffix: str) -> str:
    """SNS topic of one route: `solution-Alerts` / `solution-Warnings`."""
    return shorten(f"{solution}-{suffix}", TOPIC_NAME_MAX)


def key_alias(solution: str) -> str:
    """Alias of the alert topics' KMS key (also named in the workflow role's kms:ViaService policy)."""
    return f"alias/{solution}-alerts"


def chatbot_configuration_name(solution: str, route: str) -> str:
    """AWS Chatbot Slack channel configuration of one route (`critical`/`warning` prefix)."""
    return shorten(f"{solution}-{route.lower()}", CHATBOT_CONFIGURATION_NAME_MAX)


def log_metric_namespace(solution: str) -> str:
    """Custom namespace of the metrics log metric filters publish."""
    return f"mlmon/{solution}"


def log_metric_name(component: str, pattern: str) -> str:
    """Custom metric a log pattern of a component publishes (in `log_metric_namespace`)."""
    return f"{component}-{pattern}"


def metric_filter_name(solution: str, component: str, pattern: str) -> str:
    return shorten(f"{solution}-{component}-{pattern}", FILTER_NAME_MAX)


def query_definition_name(solution: str, component: str, title: str) -> str:
    """Saved Logs Insights query; '/' makes folders in the console."""
    return shorten(f"{solution}/{component}/{title}", QUERY_NAME_MAX)


def state_machine_name(solution: str, component: str) -> str:
    """A generated workflow's state machine."""
    return shorten(f"{solution}-{component}", STATE_MACHINE_NAME_MAX)


DASHBOARD_NAME_MAX = 255


def dashboard_name(solution: str, *parts: str) -> str:
    """`solution[-label][-n]`: one dashboard per 75 components (and per nested-stack overview)."""
    return shorten("-".join([solution, *parts]), DASHBOARD_NAME_MAX)


def composite_part_name(name: str, number: int) -> str:
    """A part of a composite split to stay within 100 children / 10,240 rule characters."""
    return shorten(f"{name}-Part{number}", ALARM_NAME_MAX)


def nested_stack_stem(prefix: str) -> str:
    """File stem of a nested stack template chosen by hash prefix bits."""
    return f"monitoring-{prefix or 'all'}"


def nested_stack_logical_id(prefix: str) -> str:
    return f"Monitoring{prefix or 'All'}"


def scoped_solution(solution: str, environment: str | None, name_suffix: str | None) -> str:
    """The prefix of every physical name: `solution`, or `solution-<suffix>` when an environment is
    selected (its name, or an explicit `name_suffix`), so environments of one spec deploy side by
    side in one account. Logical IDs never include it, so they stay the same in every environment."""
    suffix = name_suffix if name_suffix is not None else environment
    return f"{solution}-{suffix}" if suffix else solution


EVENT_BUS_NAME_MAX = 256


def central_bus_name(solution: str) -> str:
    """The central account's event bus every member of an `organization:` forwards to."""
    return shorten(f"mlmon-{solution}", EVENT_BUS_NAME_MAX)
