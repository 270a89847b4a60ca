"""`mlmon fire`: put a stack's alarms into ALARM one at a time so the team sees the notification
arrive, restore each one, and report subscriptions nobody has confirmed yet.

Why one at a time: a composite alarm notifies when *it* changes state. Two children of the same
component composite fired together would send one message; firing each child, restoring it and
waiting until its composites are back out of ALARM gives one notification per chosen alarm.

Why the subscription report: an email subscription stays "PendingConfirmation" until the address
clicks the link in the confirmation email, and a pending address receives nothing; CloudFormation
reports the stack as complete all the same. It is the most common reason nobody hears an alarm.
AWS lists a pending subscription with SubscriptionArn "PendingConfirmation"; LocalStack lists it
with a real ARN and attribute PendingConfirmation=true, so both are checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..alarm_tree import ancestors
from ..errors import AwsError, AwsUsageError
from ..naming import HISTORY_TOPIC_SUFFIX
from .session import Aws, Target, aws_errors, error_code, error_message

REASON = "mlmon fire: test notification"
RESTORE_REASON = "mlmon fire: restored after the test notification"
ALARM_TYPES = {"AWS::CloudWatch::Alarm": "metric", "AWS::CloudWatch::CompositeAlarm": "composite"}
_RULE_CHILD = re.compile(r"""ALARM\(\s*("?)([^")]+)\1\s*\)""")

Log = Callable[[str], None]


@dataclass(frozen=True)
class FireRequest:
    stack_name: str
    target: Target = Target()
    patterns: tuple[str, ...] = ()
    wait_seconds: float = 10.0
    poll_seconds: float | None = None  # default: 0.2 s against --endpoint-url, else 1 s


@dataclass
class Fired:
    """What happened to one chosen alarm."""

    name: str
    kind: str  # metric | composite
    previous: str
    fired: bool = False
    restored: str | None = None
    notified: list[str] = field(default_factory=list)  # alarms with SNS actions that went to ALARM
    expected: list[str] = field(default_factory=list)  # alarms with SNS actions that should have
    topics: list[str] = field(default_factory=list)  # the SNS topics those actions publish to
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Subscription:
    topic: str
    protocol: str
    endpoint: str
    pending: bool


@dataclass
class FireResult:
    stack_name: str
    fired: list[Fired]
    topics: list[str]
    subscriptions: list[Subscription]
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # topics whose subscriptions could not be listed

    @property
    def pending(self) -> list[Subscription]:
        return [s for s in self.subscriptions if s.pending]


def fire(request: FireRequest, log: Log) -> FireResult:
    aws = Aws(request.target)
    cfn, cw = aws.client("cloudformation"), aws.client("cloudwatch")
    poll = request.poll_seconds if request.poll_seconds is not None else (0.2 if request.target.endpoint_url else 1.0)

    names = stack_alarms(cfn, request.stack_name)
    alarms = _describe(cw, [n for n, _ in names])
    missing = [n for n, _ in names if n not in alarms]
    if missing:
        log(f"mlmon: {len(missing)} alarm(s) of the stack were not found in CloudWatch: {', '.join(missing[:5])}")
    parents = _parents(alarms)
    chosen = choose(names, request.patterns, alarms)
    warnings: list[str] = []
    fired: list[Fired] = []
    topics: list[str] = []
    for name in chosen:
        notifiers = [a for a in [name, *ancestors(name, parents)] if _sns_actions(alarms[a])]
        for topic in (t for a in notifiers for t in _sns_actions(alarms[a])):
            if topic not in topics:
                topics.append(topic)
        if not notifiers:
            warnings.append(f"{name} notifies nobody: neither it nor a composite above it has an SNS alarm action")
        fired.append(_fire_one(cw, name, alarms, parents, notifiers, request.wait_seconds, poll, log))
        fired[-1].topics = list(dict.fromkeys(t for a in notifiers for t in _sns_actions(alarms[a])))
    subscriptions = _subscriptions(aws.client("sns"), topics, warnings)
    for topic in topics:
        if not any(s.topic == topic and not s.pending for s in subscriptions):
            warnings.append(f"topic {topic} has no confirmed subscription: nobody receives its notifications")
    unreadable = [t for t in topics if any(w.startswith(f"cannot list the subscriptions of {t} ") for w in warnings)]
    return FireResult(request.stack_name, fired, topics, subscriptions, warnings, unreadable)


def unheard(result: FireResult) -> list[str]:
    """Chosen alarms that reach nobody: no SNS action on them or any composite above them, or
    only topics without a confirmed subscription (topics whose subscriptions could not be read
    are given the benefit of the doubt; a warning already says so)."""
    confirmed = {s.topic for s in result.subscriptions if not s.pending} | set(result.unreadable)
    return [f.name for f in result.fired if not any(t in confirmed for t in f.topics)]


# --------------------------------------------------------------------------- discovery
def stack_alarms(cfn: Any, stack: str, depth: int = 0) -> list[tuple[str, str]]:
    """(alarm name, metric|composite) of every alarm in the stack and its nested stacks."""
    found: list[tuple[str, str]] = []
    from botocore.exceptions import ClientError

    with aws_errors(f"list the resources of stack {stack}"):
        try:
            pages = list(cfn.get_paginator("list_stack_resources").paginate(StackName=stack))
        except ClientError as exc:
            if "does not exist" in error_message(exc):
                raise AwsError(f"mlmon: stack {stack} does not exist (check --stack-name and --region)") from None
            raise
    for page in pages:
        for res in page.get("StackResourceSummaries") or []:
            kind = ALARM_TYPES.get(res.get("ResourceType", ""))
            if kind and res.get("PhysicalResourceId"):
                found.append((res["PhysicalResourceId"], kind))
            elif res.get("ResourceType") == "AWS::CloudFormation::Stack" and res.get("PhysicalResourceId") and depth < 5:
                found += stack_alarms(cfn, res["PhysicalResourceId"], depth + 1)
    if depth == 0 and not found:
        raise AwsError(f"mlmon: stack {stack} has no CloudWatch alarms")
    return found


def choose(names: list[tuple[str, str]], patterns: tuple[str, ...], alarms: dict[str, dict[str, Any]]) -> list[str]:
    """Alarms matching any glob (metric or composite); without patterns every metric alarm."""
    present = [(n, k) for n, k in names if n in alarms]
    if not patterns:
        return sorted(n for n, k in present if k == "metric")
    unmatched = [p for p in patterns if not any(fnmatchcase(n, p) for n, _ in present)]
    if unmatched:
        shown = ", ".join(sorted(n for n, _ in present)[:40])
        raise AwsUsageError(f"mlmon: --alarm {', '.join(unmatched)}: no alarm of the stack matches; its alarms: {shown}")
    chosen = []
    for pattern in patterns:  # the order the user gave
        chosen += [n for n, _ in sorted(present) if fnmatchcase(n, pattern) and n not in chosen]
    return chosen


def _describe(cw: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(names), 100):
        with aws_errors("describe alarms"):
            res = cw.describe_alarms(AlarmNames=names[i:i + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for alarm in res.get("MetricAlarms") or []:
            out[alarm["AlarmName"]] = {**alarm, "_kind": "metric"}
        for alarm in res.get("CompositeAlarms") or []:
            out[alarm["AlarmName"]] = {**alarm, "_kind": "composite"}
    return out


def _parents(alarms: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """child alarm name -> composites whose rule names it (by ARN or by name)."""
    by_arn = {a.get("AlarmArn"): n for n, a in alarms.items()}
    parents: dict[str, list[str]] = {}
    for name, alarm in alarms.items():
        for _, ref in _RULE_CHILD.findall(alarm.get("AlarmRule") or ""):
            child = by_arn.get(ref) or (ref.split(":alarm:", 1)[1] if ":alarm:" in ref else ref)
            parents.setdefault(child, []).append(name)
    return parents


def _sns_actions(alarm: dict[str, Any]) -> list[str]:
    """The SNS topics an ALARM notifies people on: not the alarm-history topic (no subscriber by design)."""
    if not alarm.get("ActionsEnabled", True):
        return []
    return [a for a in alarm.get("AlarmActions") or [] if a.startswith("arn:") and a.split(":")[2] == "sns"
            and not a.endswith(f"-{HISTORY_TOPIC_SUFFIX}")]


# --------------------------------------------------------------------------- firing
def _states(cw: Any, names: list[str]) -> dict[str, str]:
    return {n: a["StateValue"] for n, a in _describe(cw, names).items()}


def _fire_one(cw: Any, name: str, alarms: dict[str, dict[str, Any]], parents: dict[str, list[str]],
              notifiers: list[str], wait: float, poll: float, log: Log) -> Fired:
    composites = ancestors(name, parents)
    states = _states(cw, [name, *composites])
    result = Fired(name, alarms[name]["_kind"], states.get(name, "INSUFFICIENT_DATA"), expected=list(notifiers))
    if result.previous == "ALARM":
        result.notes.append("already in ALARM (a real incident?): left alone, no test notification")
        log(f"mlmon: {name}: already in ALARM, skipped")
        return result
    blocked = [c for c in composites if states.get(c) == "ALARM"]
    if blocked:
        result.notes.append(f"already in ALARM, so no new notification through: {', '.join(blocked)}")
    watch = [c for c in composites if c not in blocked]
    with aws_errors(f"set {name} to ALARM"):
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=REASON)
    result.fired = True
    log(f"mlmon: {name}: {result.previous} -> ALARM")
    try:
        reached = _wait_for(cw, watch, lambda s: s == "ALARM", wait, poll)
        result.notified = [n for n in notifiers if n == name or n in reached]
        late = [c for c in watch if c not in reached and c in notifiers]
        if late:
            result.notes.append(f"not in ALARM after {wait:.0f} s: {', '.join(late)}")
    finally:
        with aws_errors(f"restore {name} to {result.previous}"):
            cw.set_alarm_state(AlarmName=name, StateValue=result.previous, StateReason=RESTORE_REASON)
        result.restored = result.previous
    stuck = set(watch) - _wait_for(cw, watch, lambda s: s != "ALARM", wait, poll)
    if stuck:
        result.notes.append(f"still in ALARM after restoring (another child alarming?): {', '.join(sorted(stuck))}")
    log(f"mlmon: {name}: restored {result.previous}")
    return result


def _wait_for(cw: Any, names: list[str], ok: Callable[[str], bool], wait: float, poll: float) -> set[str]:
    """Poll until every alarm's state satisfies `ok` or `wait` passes; return those that do."""
    deadline = time.monotonic() + wait
    done: set[str] = set()
    while names:
        done = {n for n, s in _states(cw, names).items() if ok(s)}
        if done >= set(names) or time.monotonic() > deadline:
            break
        time.sleep(poll)
    return done


# --------------------------------------------------------------------------- subscriptions
def _subscriptions(sns: Any, topics: list[str], warnings: list[str]) -> list[Subscription]:
    from botocore.exceptions import BotoCoreError, ClientError

    subs: list[Subscription] = []
    for topic in topics:
        try:
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
                for sub in page.get("Subscriptions") or []:
                    subs.append(Subscription(topic, sub.get("Protocol", "?"), sub.get("Endpoint", "?"), _pending(sns, sub)))
        except (ClientError, BotoCoreError) as exc:
            why = f"{error_code(exc)}: {error_message(exc)}" if isinstance(exc, ClientError) else str(exc)
            warnings.append(f"cannot list the subscriptions of {topic} ({why}); check them in the account that owns it")
    return subs


def _pending(sns: Any, sub: dict[str, Any]) -> bool:
    arn = sub.get("SubscriptionArn", "")
    if arn == "PendingConfirmation":  # AWS
        return True
    if not arn.startswith("arn:"):
        return False
    try:  # LocalStack (and AWS, for a confirmed one: "false")
        attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    except Exception:
        return False
    return str(attrs.get("PendingConfirmation", "false")).lower() == "true"


# --------------------------------------------------------------------------- report
def report_lines(result: FireResult) -> list[str]:
    """What the CLI prints on stdout: one line per alarm, then the subscriptions."""
    lines = []
    for f in result.fired:
        if not f.fired:
            lines.append(f"SKIPPED  {f.name}: " + "; ".join(f.notes))
            continue
        via = ", ".join(f.notified) if f.notified else "nothing (no SNS action on it or any composite above it)"
        lines.append(f"FIRED    {f.name} ({f.kind}): {f.previous} -> ALARM -> {f.restored}; notified via {via}")
        lines += [f"         note: {n}" for n in f.notes]
    for topic in result.topics:
        subs = [s for s in result.subscriptions if s.topic == topic]
        confirmed = sum(not s.pending for s in subs)
        lines.append(f"TOPIC    {topic}: {len(subs)} subscription(s), {confirmed} confirmed, {len(subs) - confirmed} pending")
    for sub in result.pending:
        lines.append(f"PENDING  {sub.protocol} {sub.endpoint} on {sub.topic}: receives nothing until confirmed")
    return lines


def hints(result: FireResult) -> list[str]:
    """Advice for stderr: pending confirmations and warnings."""
    out = [f"mlmon: warning: {w}" for w in result.warnings]
    if result.pending:
        sample = result.pending[0]
        out.append(
            f"mlmon: {len(result.pending)} subscription(s) still pending confirmation receive nothing: each address must "
            "click 'Confirm subscription' in the 'AWS Notification - Subscription Confirmation' email. "
            f"To send it again: aws sns subscribe --topic-arn {sample.topic} --protocol {sample.protocol} "
            f"--notification-endpoint {sample.endpoint}"
        )
    return out
