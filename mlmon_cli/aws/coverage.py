"""`mlmon coverage`: the resources in an account and Region that no alarm or rule watches.

AWS Config's alarm-coverage rule covers EC2, RDS, S3 and EBS only (aws-ml-facts-3 §5); nothing
reports ML resources without alarms. This lists each kind's resources with its own service's list
call, reads every metric alarm (DescribeAlarms, dimensions of the metric and of each math query)
and every EventBridge rule of every bus (ListRules, the event pattern's values), and calls a
resource watched when its name or ARN is one of those values (or appears in a Metrics Insights
query). Whoever created the resources, in any stack or none: a resource a stack manages (found
through ListStacks and ListStackResources) gets `mlmon init --from-stack`, any other a spec snippet.
A kind whose list call fails (no permission, service not offered in the Region) is reported as
not checked, never as watched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..components import load_all
from ..components.base import Inventory
from ..errors import AwsUsageError
from .session import Aws, Target, aws_errors, error_code, error_message


@dataclass(frozen=True)
class Kind:
    """A component kind coverage lists: its spec name and its `Inventory` (declared on the kind)."""

    name: str  # the spec's `kind:`
    inventory: Inventory

    def lister(self, client: Any, aws: Aws) -> Iterator[tuple[str, str, str]]:
        """(name, ARN, physical ID) of every resource of the kind in the account and Region."""
        inv = self.inventory
        items = list(_paged(client, inv.operation, inv.key, **dict(inv.arguments)))
        needs_account = bool(inv.arn_format) and "{account}" in inv.arn_format
        yield from inv.pairs(items, aws.session.get_partition_for_region(aws.region), aws.region,
                             _account(aws) if needs_account and items else "")


def _paged(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key) or []


def _account(aws: Aws) -> str:
    if not hasattr(aws, "_mlmon_account"):
        with aws_errors("read the account ID (sts get-caller-identity)"):
            aws._mlmon_account = aws.client("sts").get_caller_identity()["Account"]  # type: ignore[attr-defined]
    return str(aws._mlmon_account)  # type: ignore[attr-defined]


# Every kind that declares how its resources are listed, by name (adding a kind with an inventory adds it here).
KINDS = [Kind(name, cls.inventory) for name, cls in sorted(load_all().items()) if cls.inventory is not None]
KIND_NAMES = [k.name for k in KINDS]


@dataclass(frozen=True)
class CoverageRequest:
    target: Target = field(default_factory=Target)
    stack_name: str | None = None
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unwatched:
    kind: str
    name: str
    arn: str
    stack: str | None  # the stack that manages it, if any
    start: str  # how to start monitoring it

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "arn": self.arn, "stack": self.stack, "start": self.start}


@dataclass
class CoverageResult:
    region: str
    stack_name: str | None
    counts: dict[str, int] = field(default_factory=dict)  # kind -> resources seen
    unwatched: list[Unwatched] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)  # kind -> why
    alarms: int = 0
    rules: int = 0

    def summary(self) -> list[str]:
        total = sum(self.counts.values())
        lines = [f"mlmon: not checked: {kind}: {why}" for kind, why in sorted(self.not_checked.items())]
        scope = f"stack {self.stack_name}" if self.stack_name else f"account, {self.region}"
        lines.append(f"mlmon: coverage ({scope}): {total} resource(s) of {len(self.counts)} kind(s) against {self.alarms} alarm(s) "
                     f"and {self.rules} rule(s): {len(self.unwatched)} not watched")
        return lines


# --------------------------------------------------------------------------- the work
def coverage(request: CoverageRequest) -> CoverageResult:
    unknown = sorted(set(request.kinds) - set(KIND_NAMES))
    if unknown:
        raise AwsUsageError(f"mlmon: --kind {', '.join(unknown)}: not a kind coverage lists (it lists: {', '.join(KIND_NAMES)})")
    aws = Aws(request.target)
    result = CoverageResult(aws.region, request.stack_name)
    in_stack = _stack_physical_ids(aws, request.stack_name) if request.stack_name else None
    found: dict[str, list[tuple[str, str, str]]] = {}
    for kind in KINDS:
        if request.kinds and kind.name not in request.kinds:
            continue
        try:
            resources = sorted(set(kind.lister(aws.client(kind.inventory.service), aws)))
        except (ClientError, BotoCoreError) as exc:
            result.not_checked[kind.name] = f"{error_code(exc)}: {error_message(exc)}" if isinstance(exc, ClientError) else str(exc)
            continue
        if in_stack is not None:
            resources = [(n, a, p) for n, a, p in resources if in_stack & ({n, a, p} - {""})]
        found[kind.name] = resources
        result.counts[kind.name] = len(resources)
    values, expressions = _watched_values(aws, result)
    stacks = _Stacks(aws)
    for kind in KINDS:
        for name, arn, physical in found.get(kind.name, []):
            if name in values or arn in values or any(name in e or arn in e for e in expressions):
                continue
            stack = request.stack_name or stacks.of(name, arn, physical)
            result.unwatched.append(Unwatched(kind.name, name, arn, stack, _start(kind, name, arn, stack, aws.region)))
    return result


def _watched_values(aws: Aws, result: CoverageResult) -> tuple[set[str], list[str]]:
    """Every dimension value of every metric alarm, every string in every rule's event pattern,
    and the Metrics Insights queries (matched as text)."""
    values: set[str] = set()
    expressions: list[str] = []
    cw = aws.client("cloudwatch")
    with aws_errors("describe the account's alarms"):
        for alarm in _paged(cw, "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]):
            result.alarms += 1
            values.update(str(d.get("Value")) for d in alarm.get("Dimensions") or [])
            for query in alarm.get("Metrics") or []:
                metric = (query.get("MetricStat") or {}).get("Metric") or {}
                values.update(str(d.get("Value")) for d in metric.get("Dimensions") or [])
                if query.get("Expression"):
                    expressions.append(query["Expression"])
    events = aws.client("events")
    with aws_errors("list the EventBridge rules"):
        buses = [b["Name"] for b in _list_all(events.list_event_buses, "EventBuses")] or ["default"]
        for bus in buses:
            for rule in _list_all(events.list_rules, "Rules", EventBusName=bus):
                result.rules += 1
                if rule.get("EventPattern"):
                    try:
                        values.update(_strings(json.loads(rule["EventPattern"])))
                    except ValueError:
                        expressions.append(rule["EventPattern"])
    return values, expressions


def _list_all(call: Callable[..., Any], key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """ListRules/ListEventBuses page with NextToken (no boto3 paginator for list_event_buses)."""
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key) or []
        token = page.get("NextToken")
        if not token:
            return


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _stack_physical_ids(aws: Aws, stack: str) -> set[str]:
    cfn = aws.client("cloudformation")
    ids: set[str] = set()
    pending = [stack]
    while pending:
        current = pending.pop()
        with aws_errors(f"list the resources of stack {current}"):
            for summary in _paged(cfn, "list_stack_resources", "StackResourceSummaries", StackName=current):
                physical = summary.get("PhysicalResourceId") or ""
                ids.add(physical)
                if summary.get("ResourceType") == "AWS::CloudFormation::Stack" and physical.startswith("arn:"):
                    pending.append(physical)
    return ids


class _Stacks:
    """Physical ID -> the stack that manages it, read once (ListStacks, then ListStackResources of each
    live stack, nested ones included) when the first unwatched resource needs it. DescribeStackResources
    by physical ID alone would cost a call per resource, and LocalStack 4.14 does not answer it."""

    LIVE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE",
            "ROLLBACK_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS")

    def __init__(self, aws: Aws):
        self.aws = aws
        self.by_physical: dict[str, str] | None = None

    def of(self, name: str, arn: str, physical: str = "") -> str | None:
        if self.by_physical is None:
            self.by_physical = {}
            cfn = self.aws.client("cloudformation")
            try:
                for stack in _paged(cfn, "list_stacks", "StackSummaries", StackStatusFilter=list(self.LIVE)):
                    for summary in _paged(cfn, "list_stack_resources", "StackResourceSummaries", StackName=stack["StackId"]):
                        if summary.get("PhysicalResourceId"):
                            self.by_physical.setdefault(summary["PhysicalResourceId"], stack["StackName"])
            except (ClientError, BotoCoreError):
                pass  # no stack attribution: each resource gets a spec snippet instead
        return self.by_physical.get(name) or self.by_physical.get(arn) or (self.by_physical.get(physical) if physical else None)


def _start(kind: Kind, name: str, arn: str, stack: str | None, region: str) -> str:
    if stack:
        return f"mlmon init --from-stack {stack} --region {region} -o {stack}-monitoring.yaml"
    value = arn if kind.inventory.option_value == "arn" else name
    return f"- {{kind: {kind.name}, name: {_component_name(name)}, {kind.inventory.option}: {json.dumps(value)}}}"


def _component_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return cleaned[:40].strip("-") or "resource"


# --------------------------------------------------------------------------- rendering
def _by_kind(result: CoverageResult) -> dict[str, list[Unwatched]]:
    grouped: dict[str, list[Unwatched]] = {}
    for item in result.unwatched:
        grouped.setdefault(item.kind, []).append(item)
    return grouped


def _label(kind: str) -> str:
    return next(k.inventory.label for k in KINDS if k.name == kind)


def to_text(result: CoverageResult) -> str:
    lines = []
    for kind, items in _by_kind(result).items():
        lines.append(f"{_label(kind)} ({kind}): {len(items)} of {result.counts.get(kind, 0)} not watched")
        for item in items:
            lines.append(f"  {item.name}" + (f"  (stack {item.stack})" if item.stack else ""))
            lines.append(f"    start: {item.start}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_markdown(result: CoverageResult) -> str:
    scope = f"stack `{result.stack_name}`" if result.stack_name else f"account, {result.region}"
    lines = [f"# Monitoring coverage ({scope})", "",
             (f"{sum(result.counts.values())} resources checked against {result.alarms} alarms and {result.rules} EventBridge rules: "
              f"**{len(result.unwatched)} not watched**."), ""]
    lines += ["| kind | resources | not watched |", "|---|---:|---:|"]
    grouped = _by_kind(result)
    lines += [f"| `{kind}` | {n} | {len(grouped.get(kind, []))} |" for kind, n in result.counts.items()]
    lines += [f"| `{kind}` | not checked | {why.replace('|', '/')} |" for kind, why in sorted(result.not_checked.items())]
    for kind, items in grouped.items():
        lines += ["", f"## {_label(kind)} (`{kind}`)", "", "| resource | stack | start monitoring |", "|---|---|---|"]
        lines += [f"| `{i.name}` | {i.stack or '-'} | `{i.start.replace('|', '/')}` |" for i in items]
    return "\n".join(lines) + "\n"


def to_json(result: CoverageResult) -> str:
    return json.dumps({"region": result.region, "stack": result.stack_name, "resources": result.counts, "alarms": result.alarms,
                       "rules": result.rules, "not_checked": result.not_checked,
                       "unwatched": [u.as_dict() for u in result.unwatched]}, indent=2, sort_keys=True) + "\n"
