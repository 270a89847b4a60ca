"""Names CloudFormation and AWS accept, derived only from the component and alarm.

Every name depends on its own parts alone (never on other components or on order), so adding
or reordering components never renames, and so never replaces, a deployed resource. Names
over a limit are shortened with a stable hash of the full name, so they stay unique.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from .limits import (
    ALARM_NAME_MAX,
    CHATBOT_CONFIGURATION_NAME_MAX,
    DASHBOARD_NAME_MAX,
    EVENT_BUS_NAME_MAX,
    FILTER_NAME_MAX,
    LOGICAL_ID_MAX,
    MUTE_RULE_NAME_MAX,
    QUERY_NAME_MAX,
    RULE_NAME_MAX,
    STATE_MACHINE_NAME_MAX,
    TOPIC_DISPLAY_NAME_MAX,
    TOPIC_NAME_MAX,
)

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


# --- Well-known logical IDs of mlmon's own resources, outputs and parameters (one per template).
# Nothing else spells them (tests/test_names_and_limits.py); users' tooling reads the outputs.

ALERTS_KEY_ID = "AlertsKey"  # the KMS key of the alert topics and of generated workflows' log groups
ALERTS_KEY_ALIAS_ID = "AlertsKeyAlias"
ALERTS_KEY_ARN_PARAMETER = "AlertsKeyArn"  # a nested stack's parameter: that key's ARN
ALERTS_TOPIC_ID = "AlertsTopic"  # the critical route's topic (a nested stack's parameter of the same name: its ARN)
WARNING_TOPIC_ID = "WarningTopic"  # the warning route's topic, when the spec has one
TOPIC_POLICY_ID = "AlertsTopicPolicy"  # the one policy of every topic mlmon creates
HISTORY_TOPIC_ID = "AlarmHistoryTopic"  # logical ID (and nested-stack parameter) of the alarm-history topic
ALERT_TOPIC_OUTPUT = "AlertTopicArn"
WARNING_TOPIC_OUTPUT = "WarningTopicArn"
ALERTS_KEY_OUTPUT = "AlertKeyArn"
CONFIRM_SUBSCRIPTIONS_OUTPUT = "ConfirmSubscriptions"
SOLUTION_COMPOSITE_NAME_OUTPUT = "SolutionCompositeAlarmName"
SOLUTION_COMPOSITE_ARN_OUTPUT = "SolutionCompositeAlarmArn"
# The DefinitionSubstitutions variable a generated workflow's notify step publishes to (`${AlertTopicArn}`).
ALERT_TOPIC_SUBSTITUTION = "AlertTopicArn"
ROUTE_ID_PREFIX = {"critical": "Alerts", "warning": "Warning"}  # subscriber and Slack IDs of each route
# Organization scale (core/organization.py): member stacks forward to a central event bus.
CENTRAL_FORWARD_ROLE_ID = "CentralForwardRole"
CENTRAL_FORWARD_RULE_ID = "CentralForwardAlarms"
CENTRAL_BUS_ID = "CentralBus"
CENTRAL_BUS_TARGET_ID = CENTRAL_BUS_ID  # the Id of the forwarding rules' target (the central bus)
CENTRAL_BUS_OUTPUT = "CentralEventBusArn"
_ALERT_PATH = "AlertPath"


def solution_composite_id(label: str = "") -> str:
    """The solution's composite of one severity (`label` Critical/Warning), or its top one (no label)."""
    return f"Solution{label}Composite"


SOLUTION_COMPOSITE_ID = solution_composite_id()
SOLUTION_COMPOSITE_SUFFIX = "Composite"  # the top composite's name: `<solution>-Composite`


def solution_composite_name(solution: str, label: str = "") -> str:
    return alarm_name(solution, label or SOLUTION_COMPOSITE_SUFFIX)


def is_solution_or_stack_composite(logical: str) -> bool:
    """A composite over components (the solution's or a nested stack's), read back from a template."""
    return logical.startswith(("Solution", "Stack"))


def solution_composite_output(label: str) -> str:
    return f"Solution{label}CompositeAlarmName"


def stack_composite_id(label: str) -> str:
    """A nested stack's composite of one severity (the same ID in every nested template)."""
    return f"Stack{label}Composite"


def stack_composite_name(solution: str, prefix: str, label: str) -> str:
    return alarm_name(solution, "Stack", prefix or "all", label)


def stack_composite_output(label: str) -> str:
    """The nested stack's output its parent's solution composite reads the stack composite's ARN from."""
    return f"Stack{label}CompositeArn"


def component_composite_id(component: str, label: str, group: str = "") -> str:
    """A component's composite of one severity (`label`), or of a group of its alarms within it."""
    return logical_id(component, label, group, "Composite")


def component_composite_name(solution: str, component: str, label: str, group: str = "") -> str:
    return alarm_name(solution, component, label, group)


def alarm_id(component: str, target: str, suffix: str) -> str:
    """A component's alarm (`target`: the dimension set's label, e.g. a variant, or '')."""
    return logical_id(component, target, suffix, "Alarm")


def component_alarm_name(solution: str, component: str, target: str, suffix: str) -> str:
    return alarm_name(solution, component, target, suffix)


def event_rule_id(component: str, suffix: str) -> str:
    """The EventBridge rule of a component's event alarm."""
    return logical_id(component, suffix, "Rule")


def composite_part_id(logical: str, number: int) -> str:
    """A part of a composite split to stay within 100 children / 10,240 rule characters."""
    return f"{logical}Part{number}"


def dashboard_id(*parts: str) -> str:
    return logical_id("Dashboard", *parts)


def alert_path_alarm_id(suffix: str) -> str:
    """The alarm on failed deliveries of one of mlmon's topics."""
    return f"{_ALERT_PATH}{suffix}Alarm"


def is_alert_path_alarm(logical: str) -> bool:
    return logical.startswith(_ALERT_PATH)


def alert_path_alarm_name(solution: str, suffix: str) -> str:
    return alarm_name(solution, "alert-path", suffix)


def subscription_id(route: str, protocol: str, endpoint: str) -> str:
    """An SNS subscription of a route (`ROUTE_ID_PREFIX`), by protocol (Email, Https, Lambda) and endpoint."""
    return f"{route}{protocol}{stable_hash(endpoint)}"


def lambda_permission_id(route: str, function_arn: str) -> str:
    return f"{route}LambdaPermission{stable_hash(function_arn)}"


def slack_channel_id(route: str) -> str:
    return f"{route}Slack"


def slack_role_id(route: str) -> str:
    return f"{route}SlackRole"


def slack_guardrail_id(route: str) -> str:
    return f"{route}SlackGuardrail"


def central_rule_id(member_logical: str) -> str:
    """The central bus's copy of a member stack's rule."""
    return f"Central{member_logical}"[:LOGICAL_ID_MAX]


def quiet_window_id(window: str, *parts: str) -> str:
    """The mute rule of a quiet window (`parts`: its number when the alarms need more than one rule)."""
    return logical_id("QuietWindow", window, *parts)


# --- Physical names of mlmon's own resources: every one is derived here, from what it names. ---

HISTORY_TOPIC_SUFFIX = "alarm-history"  # <solution>-alarm-history: state changes of alarms that reach people via a composite
ROUTE_TOPIC_SUFFIX = {"critical": "alerts", "warning": "warnings"}


def topic_name(solution: str, suffix: str) -> str:
    """SNS topic of one route: `solution-alerts` / `solution-warnings` (`ROUTE_TOPIC_SUFFIX`), or the history topic."""
    return shorten(f"{solution}-{suffix}", TOPIC_NAME_MAX)


def topic_display_name(solution: str, what: str) -> str:
    return f"{solution} {what}"[:TOPIC_DISPLAY_NAME_MAX]


def mute_rule_name(solution: str, window: str, *parts: str) -> str:
    """AlarmMuteRule of a quiet window: `solution-window[-n]`."""
    return shorten("-".join([solution, window, *parts]), MUTE_RULE_NAME_MAX)


def workflow_log_group_name(state_machine: str) -> str:
    """Execution log group of a generated workflow. Step Functions adds every logging log group to the
    CloudWatch Logs resource policy (5,120 characters); `/aws/vendedlogs/` names avoid that limit
    (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html), and the console uses
    `/aws/vendedlogs/states`."""
    return f"/aws/vendedlogs/states/{state_machine}"


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




def central_bus_name(solution: str) -> str:
    """The central account's event bus every member of an `organization:` forwards to."""
    return shorten(f"mlmon-{solution}", EVENT_BUS_NAME_MAX)
