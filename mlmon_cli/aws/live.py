"""`mlmon diff`: is the deployed monitoring still what the spec generates, and is it alive?

CloudFormation drift detection checks only the properties a template writes and skips nested
stacks (aws-ml-facts-3 §5), which mlmon's split output uses. This walks the generated template and
every nested stack of it beside the deployed stack (ListStackResources, recursively), resolves the
template's intrinsics from the deployed physical IDs (`resolve.Resolver`), and reads each alarm,
rule, topic and subscription back from its own service:

- drift: `missing` (in the spec, not deployed; or deleted outside CloudFormation), `unexpected`
  (deployed, no longer in the spec), `changed` (a property, spec -> deployed), `actions-disabled`,
  `rule-disabled`, `subscription-pending`, `subscription-gone`;
- dead monitoring: `dimension-mismatch` (ListMetrics has the metric under other dimensions),
  `resource-gone` (no data and the watched resource does not exist), `evaluation-error`
  (`EvaluationState` EVALUATION_ERROR/FAILURE), `insufficient-data` (INSUFFICIENT_DATA for longer
  than 3 hours plus the alarm's window although its metric received data in those 3 hours), `failed-invocations` (a rule's
  `AWS/Events FailedInvocations` over the last 24 hours).

An alarm whose watched resource exists but has published nothing yet (never ran) is not dead: it
is listed as a note, not a finding. Nothing here prints; the CLI renders `DiffResult`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsError
from .deploy import _describe_stack
from .resolve import Resolver, differences, show
from .session import Aws, Target, aws_errors, error_code

ALARM, COMPOSITE = "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"
RULE, TOPIC, SUBSCRIPTION, STACK = "AWS::Events::Rule", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::CloudFormation::Stack"
WATCHED = {ALARM: "alarm", COMPOSITE: "composite alarm", RULE: "rule", TOPIC: "topic", SUBSCRIPTION: "subscription", STACK: "nested stack"}
NOT_COMPARED = {"AlarmName", "Tags", "ActionConfiguration", "Name", "EventBusName", "TopicName"}
ACTION_LISTS = ("AlarmActions", "OKActions", "InsufficientDataActions")
FAILED_WINDOW = dt.timedelta(hours=24)
RECENT = dt.timedelta(hours=3)  # ListMetrics RecentlyActive=PT3H

# What each finding means for the person on call, and the first thing to do (README "Day 2").
FIRST_STEP = {
    "missing": "run `mlmon deploy` (if it was deleted by hand, CloudFormation recreates it only on a change: "
               "`mlmon deploy --revert-drift`, or delete and redeploy the stack)",
    "unexpected": "run `mlmon deploy` to remove it, or put it back into the spec",
    "changed": "ask who changed it (CloudTrail, the alarm's history); then `mlmon deploy --revert-drift` or change the spec",
    "actions-disabled": "the alarm notifies nobody: `aws cloudwatch enable-alarm-actions --alarm-names NAME` or `mlmon deploy --revert-drift`",
    "rule-disabled": "the rule delivers nothing: `aws events enable-rule --name NAME` or `mlmon deploy --revert-drift`",
    "subscription-pending": "the address receives nothing until it clicks the confirmation link; resend with `aws sns subscribe`",
    "subscription-gone": "someone unsubscribed: `mlmon deploy --revert-drift` or subscribe the endpoint again",
    "dimension-mismatch": "the alarm can never fire: fix the dimension in the spec to the one CloudWatch reports, then `mlmon deploy`",
    "resource-gone": "the watched resource was renamed or deleted: point the spec at its new name, or remove the component",
    "evaluation-error": "CloudWatch cannot evaluate the alarm: read its StateReason (`aws cloudwatch describe-alarms --alarm-names NAME`)",
    "insufficient-data": "the metric reports but the alarm sees no datapoints: check statistic, period and unit against the metric",
    "failed-invocations": "the rule matched but could not deliver: check the topic policy and KMS key policy allow events.amazonaws.com",
}

Log = Callable[[str], None]


@dataclass(frozen=True, order=True)
class Finding:
    kind: str
    what: str  # alarm | composite alarm | rule | topic | subscription | nested stack
    name: str
    detail: str
    stack: str = ""  # the stack (or nested stack) holding it

    def line(self) -> str:
        return f"{self.kind}: {self.what} {self.name}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "type": self.what, "name": self.name, "detail": self.detail, "stack": self.stack,
                "first_step": FIRST_STEP.get(self.kind, "")}


@dataclass
class DiffResult:
    stack_name: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)  # alarms whose existing resource has not reported yet (not dead)
    checked: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DiffRequest:
    stack_name: str
    target: Target = field(default_factory=Target)
    now: dt.datetime | None = None  # tests pin the clock


@dataclass
class _Expected:
    kind: str
    logical: str
    physical: str
    props: dict[str, Any]
    stack: str


# --------------------------------------------------------------------------- entry points
def diff_spec(spec: Path, request: DiffRequest, env: str | None = None) -> DiffResult:
    """Generate SPEC exactly as `mlmon deploy` does and compare it with stack `request.stack_name`."""
    from ..core.pipeline import generate, load_path

    parsed = load_path(spec, env=env)
    aws = Aws(request.target)
    result = generate(parsed)
    if not result.nested and _has_nested_stacks(aws, request.stack_name):
        result = generate(parsed, split=True)  # deployed split (generate --split -o DIR): compare like with like
    nested = {stem: t.to_dict() for stem, t in result.nested.items()}
    return diff_templates(aws, request, result.template.to_dict(), nested)


def _has_nested_stacks(aws: Aws, stack: str) -> bool:
    cfn = aws.client("cloudformation")
    if _describe(cfn, stack) is None:
        return False
    return any(r.get("ResourceType") == STACK for r in _stack_resources(cfn, stack).values())


def diff_templates(aws: Aws, request: DiffRequest, template: dict[str, Any], nested: dict[str, dict[str, Any]]) -> DiffResult:
    cfn = aws.client("cloudformation")
    out = DiffResult(request.stack_name)
    stack = _describe(cfn, request.stack_name)
    if stack is None:
        raise AwsError(f"mlmon: stack {request.stack_name} does not exist in {aws.region}: deploy it first with mlmon deploy")
    if not str(stack.get("StackStatus", "")).endswith("_COMPLETE") or "ROLLBACK" in str(stack.get("StackStatus", "")):
        out.notes.append(f"stack {request.stack_name} is {stack.get('StackStatus')}: the last deploy did not complete")
    expected: list[_Expected] = []
    _walk(cfn, stack, template, nested, request.stack_name, expected, out)
    now = request.now or dt.datetime.now(dt.UTC)
    checker = _Live(aws, out, now)
    checker.alarms([e for e in expected if e.kind in (ALARM, COMPOSITE)])
    checker.rules([e for e in expected if e.kind == RULE])
    checker.topics([e for e in expected if e.kind == TOPIC])
    checker.subscriptions([e for e in expected if e.kind == SUBSCRIPTION])
    out.findings.sort(key=lambda f: (f.kind, f.name, f.detail))
    return out


# --------------------------------------------------------------------------- templates vs stacks
def _describe(cfn: Any, name: str) -> dict[str, Any] | None:
    """`deploy._describe_stack`, and None for an empty answer too."""
    try:
        return _describe_stack(cfn, name)
    except IndexError:
        return None


def _stack_resources(cfn: Any, stack_id: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    with aws_errors(f"list the resources of stack {stack_id}"):
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            for summary in page.get("StackResourceSummaries") or []:
                if summary.get("ResourceStatus") != "DELETE_COMPLETE":
                    found[summary["LogicalResourceId"]] = summary
    return found


def _walk(cfn: Any, stack: dict[str, Any], template: dict[str, Any], nested: dict[str, dict[str, Any]], label: str,
          expected: list[_Expected], out: DiffResult) -> None:
    """Collect the watched resources of `template` (and recurse into its nested stacks) with their
    properties resolved against `stack`; missing and unexpected ones become findings."""
    stack_id = stack["StackId"]
    _, partition, _, region, account = stack_id.split(":")[:5]
    deployed = _stack_resources(cfn, stack_id)
    outputs: dict[str, dict[str, str]] = {}

    def outputs_of(child: str) -> dict[str, str]:
        if child not in outputs:
            described = _describe(cfn, child) or {}
            outputs[child] = {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs") or []}
        return outputs[child]

    resolver = Resolver(partition, region, account,
                        {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", "")) for p in stack.get("Parameters") or []},
                        {k: (v.get("ResourceType", ""), v.get("PhysicalResourceId", "")) for k, v in deployed.items()},
                        stack.get("StackName", label), stack_id, outputs_of)
    resources = template.get("Resources") or {}
    for logical, resource in sorted(resources.items()):
        kind = resource.get("Type", "")
        if kind not in WATCHED:
            continue
        props = resource.get("Properties") or {}
        if logical not in deployed:
            name = resolver.value(props.get("AlarmName") or props.get("Name") or props.get("TopicName") or logical)
            out.findings.append(Finding("missing", WATCHED[kind], name if isinstance(name, str) else logical,
                                        f"in the spec but not in stack {label} (logical ID {logical})", label))
            continue
        physical = deployed[logical].get("PhysicalResourceId", "")
        if not physical:
            out.findings.append(Finding("missing", WATCHED[kind], logical, f"not created in stack {label} "
                                        f"({deployed[logical].get('ResourceStatus', 'no status')})", label))
            continue
        if kind == STACK:
            stem = Path(str(props.get("TemplateURL", ""))).stem
            child = _describe(cfn, physical) if physical.startswith("arn:") else None
            if stem not in nested or child is None:
                out.findings.append(Finding("missing", "nested stack", logical,
                                            f"nested stack of {label} not found ({physical or 'no physical ID'})", label))
                continue
            _walk(cfn, child, nested[stem], nested, f"{label}/{logical}", expected, out)
            continue
        expected.append(_Expected(kind, logical, physical, resolver.value(props), label))
    for logical, summary in sorted(deployed.items()):
        kind = summary.get("ResourceType", "")
        if kind in WATCHED and logical not in resources:
            out.findings.append(Finding("unexpected", WATCHED[kind], summary.get("PhysicalResourceId") or logical,
                                        f"deployed in stack {label} (logical ID {logical}) but no longer in the spec", label))


# --------------------------------------------------------------------------- live resources
class _Live:
    """Reads the live resources and adds findings (one instance per diff: it caches ListMetrics)."""

    def __init__(self, aws: Aws, out: DiffResult, now: dt.datetime):
        self.aws, self.out, self.now = aws, out, now
        self.cw = aws.client("cloudwatch")
        self.metric_cache: dict[tuple[Any, ...], str] = {}
        self.exists_cache: dict[tuple[str, str], bool | None] = {}

    def add(self, kind: str, exp: _Expected, detail: str, name: str | None = None) -> None:
        self.out.findings.append(Finding(kind, WATCHED[exp.kind], name or exp.physical, detail, exp.stack))

    # ---- alarms
    def alarms(self, expected: list[_Expected]) -> None:
        self.out.checked["alarms"] = len(expected)
        live: dict[str, tuple[str, dict[str, Any]]] = {}
        names = [e.physical for e in expected]
        for start in range(0, len(names), 100):
            with aws_errors("describe the stack's alarms"):
                for page in self.cw.get_paginator("describe_alarms").paginate(
                        AlarmNames=names[start:start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
                    live.update({a["AlarmName"]: (ALARM, a) for a in page.get("MetricAlarms") or []})
                    live.update({a["AlarmName"]: (COMPOSITE, a) for a in page.get("CompositeAlarms") or []})
        for exp in expected:
            if exp.physical not in live:
                self.add("missing", exp, f"deleted outside CloudFormation (stack {exp.stack} still lists it as {exp.logical})")
                continue
            alarm = live[exp.physical][1]
            self._compare_alarm(exp, alarm)
            if exp.kind == ALARM:
                self._alarm_alive(exp, alarm)

    def _compare_alarm(self, exp: _Expected, alarm: dict[str, Any]) -> None:
        wanted = {k: v for k, v in exp.props.items() if k not in NOT_COMPARED}
        wanted.setdefault("ActionsEnabled", True)
        for key in ACTION_LISTS:
            wanted.setdefault(key, [])
        actual = dict(alarm)
        for key in ACTION_LISTS:
            actual.setdefault(key, [])
        wanted, actual = _dimensions_sorted(wanted), _dimensions_sorted(actual)
        found: list[tuple[str, str]] = []
        if wanted.get("ActionsEnabled") not in (False, "false") and alarm.get("ActionsEnabled") is False:
            found.append(("actions-disabled", "ActionsEnabled is false: the alarm changes state but notifies nobody"))
            wanted.pop("ActionsEnabled")
        found += [("changed", f"{path}: {show(want)} -> {show(got)} (spec -> deployed)") for path, want, got in differences(wanted, actual)]
        when = self._last_configuration_update(exp.physical) if found else ""
        for kind, detail in found:
            self.add(kind, exp, detail + when)

    def _last_configuration_update(self, name: str) -> str:
        """'; configured <time>' from the alarm's history (kept 30 days, aws-ml-facts-3 §1): when the
        change was made, to find who made it in CloudTrail. Empty when the history has none."""
        try:
            items = self.cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate", ScanBy="TimestampDescending",
                                                   MaxRecords=10).get("AlarmHistoryItems") or []
        except ClientError:
            return ""
        stamps = [i["Timestamp"] for i in items if i.get("HistoryItemType") == "ConfigurationUpdate" and isinstance(i.get("Timestamp"), dt.datetime)]
        if not stamps:
            return ""
        return f"; alarm history: configuration updated {max(stamps).astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"

    def _alarm_alive(self, exp: _Expected, alarm: dict[str, Any]) -> None:
        name = exp.physical
        state = alarm.get("EvaluationState")
        if state in ("EVALUATION_ERROR", "EVALUATION_FAILURE"):
            self.add("evaluation-error", exp, f"EvaluationState {state}: {alarm.get('StateReason', '')}".rstrip(": "))
        statuses = [self.metric_status(m) for m in _metrics_of(alarm)]
        for status in statuses:
            if status.startswith("mismatch:"):
                self.add("dimension-mismatch", exp, status.split(":", 1)[1].strip())
            elif status.startswith("gone:"):
                self.add("resource-gone", exp, status.split(":", 1)[1].strip())
            elif status.startswith("quiet:") and name not in self.out.quiet:
                self.out.quiet.append(name)
        if alarm.get("StateValue") == "INSUFFICIENT_DATA" and statuses and all(s == "ok" for s in statuses):
            self._stuck(exp, alarm)

    def _stuck(self, exp: _Expected, alarm: dict[str, Any]) -> None:
        """INSUFFICIENT_DATA since before the last RECENT hours plus its window, while ListMetrics
        (`RecentlyActive=PT3H`) says its metric received data in those hours: the alarm saw data
        arrive and still cannot evaluate it (statistic, unit or period that matches no datapoint).
        A metric that stopped reporting (a weekly job between runs) is not called stuck."""
        window = _window_seconds(alarm)
        since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")  # the state's start, if given
        if not window or not isinstance(since, dt.datetime):
            return
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        age = (self.now - since).total_seconds()
        if age <= RECENT.total_seconds() + window:
            return
        for metric in _metrics_of(alarm):
            dims = _sorted_dimensions(metric.get("Dimensions") or [])
            recent = self._list_metrics(metric["Namespace"], metric["MetricName"], dims, recently_active=True)
            if not any(_sorted_dimensions(m.get("Dimensions") or []) == dims for m in recent):
                return
        self.add("insufficient-data", exp, f"INSUFFICIENT_DATA for {age / 3600:.1f} h although its metric received data in the last "
                                           f"{RECENT.total_seconds() / 3600:.0f} h (window {window} s)")

    def metric_status(self, metric: dict[str, Any]) -> str:
        """ok | mismatch: ... | gone: ... | quiet: ... for one metric the alarm reads.

        ListMetrics returns every metric that has *at least* the given dimensions (and omits those
        without data in two weeks, aws-ml-facts-3 §2); an alarm reads only the one metric with
        exactly its dimension set, so the exact set is looked for among the results.
        """
        namespace, metric_name = metric.get("Namespace", ""), metric.get("MetricName", "")
        dims = _sorted_dimensions(metric.get("Dimensions") or [])
        key = (namespace, metric_name, tuple((d["Name"], d["Value"]) for d in dims))
        if key in self.metric_cache:
            return self.metric_cache[key]
        shown = f"{namespace} {metric_name} {_dims_text(dims)}"
        found = self._list_metrics(namespace, metric_name, dims)
        if any(_sorted_dimensions(m.get("Dimensions") or []) == dims for m in found):
            status = "ok"
        else:  # found only with more dimensions, or not at all: under which dimensions does it report?
            others = {tuple((d["Name"], d["Value"]) for d in _sorted_dimensions(m.get("Dimensions") or [])) for m in found}
            for dim in (d for d in dims if d["Name"] in IDENTIFYING):  # the same resource's metric under other dimensions?
                for m in self._list_metrics(namespace, metric_name, [dim]):
                    others.add(tuple((d["Name"], d["Value"]) for d in _sorted_dimensions(m.get("Dimensions") or [])))
            if others:
                listed = "; ".join(_dims_text([{"Name": n, "Value": v} for n, v in other]) for other in sorted(others)[:3])
                status = f"mismatch: CloudWatch has {namespace} {metric_name} only with {listed}; the alarm reads {_dims_text(dims)}"
            else:
                status = self._no_data(shown, namespace, dims)
        self.metric_cache[key] = status
        return status

    def _list_metrics(self, namespace: str, metric_name: str, dims: list[dict[str, str]], recently_active: bool = False) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"Namespace": namespace, "MetricName": metric_name}
        if recently_active:
            args["RecentlyActive"] = "PT3H"  # the only value ListMetrics accepts (aws-ml-facts-3 §2)
        if dims:
            args["Dimensions"] = [{"Name": d["Name"], "Value": d["Value"]} for d in dims]
        metrics: list[dict[str, Any]] = []
        with aws_errors(f"list metrics {namespace} {metric_name}"):
            for page in self.cw.get_paginator("list_metrics").paginate(**args):
                metrics += page.get("Metrics") or []
                if len(metrics) >= 1000:
                    break
        return metrics

    def _no_data(self, shown: str, namespace: str, dims: list[dict[str, str]]) -> str:
        for dim in dims:
            exists = self.resource_exists(namespace, dim["Name"], dim["Value"])
            if exists is False:
                metric = " ".join(shown.split(" ")[:2])
                return f"gone: {_RESOURCE_CHECKS[dim['Name']][0]} {dim['Value']} does not exist; no {metric} data in two weeks"
            if exists is True:
                return f"quiet: no data yet for {shown}; {_RESOURCE_CHECKS[dim['Name']][0]} {dim['Value']} exists (has it run?)"
        return f"quiet: no data in two weeks for {shown} (metrics of events that did not happen are not published)"

    def resource_exists(self, namespace: str, dimension: str, value: str) -> bool | None:
        """Whether the resource a dimension names exists; None when mlmon cannot tell (a dimension
        of that name in another namespace may name something else)."""
        if dimension not in _RESOURCE_CHECKS or namespace not in _RESOURCE_CHECKS[dimension][4]:
            return None
        key = (dimension, value)
        if key not in self.exists_cache:
            _what, service, call, missing, _namespaces = _RESOURCE_CHECKS[dimension]
            client = self.aws.client(service)
            try:
                call(client, value, self.aws)
                self.exists_cache[key] = True
            except ClientError as exc:
                self.exists_cache[key] = False if error_code(exc) in missing else None
            except Exception:  # cannot tell (no permission, service unavailable): say nothing
                self.exists_cache[key] = None
        return self.exists_cache[key]

    # ---- rules
    def rules(self, expected: list[_Expected]) -> None:
        self.out.checked["rules"] = len(expected)
        if not expected:
            return
        events = self.aws.client("events")
        for exp in expected:
            bus, _, name = exp.physical.rpartition("|")
            where = {"Name": name, **({"EventBusName": bus} if bus else {})}
            try:
                with aws_errors(f"describe rule {name}"):
                    try:
                        rule = events.describe_rule(**where)
                    except ClientError as exc:
                        if error_code(exc) == "ResourceNotFoundException":
                            self.add("missing", exp, f"deleted outside CloudFormation (stack {exp.stack} still lists it as {exp.logical})", name)
                            continue
                        raise
                    targets: list[dict[str, Any]] = []
                    for page in events.get_paginator("list_targets_by_rule").paginate(Rule=name, **({"EventBusName": bus} if bus else {})):
                        targets += page.get("Targets") or []
            except AwsError as exc:
                self.out.notes.append(str(exc))
                continue
            wanted = {k: v for k, v in exp.props.items() if k not in NOT_COMPARED}
            wanted.setdefault("State", "ENABLED")
            actual = dict(rule)
            for side in (wanted, actual):  # a JSON string or an object: compare them as objects
                if isinstance(side.get("EventPattern"), str):
                    try:
                        side["EventPattern"] = json.loads(side["EventPattern"])
                    except ValueError:
                        pass
            actual["Targets"] = sorted(targets, key=lambda t: str(t.get("Id")))
            if isinstance(wanted.get("Targets"), list):
                wanted["Targets"] = sorted(wanted["Targets"], key=lambda t: str(t.get("Id")) if isinstance(t, dict) else "")
            if wanted["State"] == "ENABLED" and actual.get("State") == "DISABLED":
                self.add("rule-disabled", exp, "State is DISABLED: the rule matches nothing and delivers nothing", name)
                wanted.pop("State")
            for path, want, got in differences(wanted, actual):
                self.add("changed", exp, f"{path}: {show(want)} -> {show(got)} (spec -> deployed)", name)
            self._failed_invocations(exp, name, bus)

    def _failed_invocations(self, exp: _Expected, name: str, bus: str) -> None:
        """Sum of AWS/Events FailedInvocations (dimension RuleName; EventBusName too on a custom bus)
        over the last 24 hours: the rule matched events its targets never received."""
        dims = [{"Name": "RuleName", "Value": name}] + ([{"Name": "EventBusName", "Value": bus}] if bus and bus != "default" else [])
        with aws_errors(f"read AWS/Events FailedInvocations of rule {name}"):
            stats = self.cw.get_metric_statistics(Namespace="AWS/Events", MetricName="FailedInvocations", Dimensions=dims,
                                                  StartTime=self.now - FAILED_WINDOW, EndTime=self.now, Period=86400,
                                                  Statistics=["Sum"])
        failed = sum(point.get("Sum", 0) for point in stats.get("Datapoints") or [])
        if failed > 0:
            self.add("failed-invocations", exp, f"{failed:g} failed deliveries to its targets in the last 24 h", name)

    # ---- topics and subscriptions
    def topics(self, expected: list[_Expected]) -> None:
        self.out.checked["topics"] = len(expected)
        if not expected:
            return
        sns = self.aws.client("sns")
        for exp in expected:
            try:
                with aws_errors(f"read topic {exp.physical}"):
                    try:
                        sns.get_topic_attributes(TopicArn=exp.physical)
                    except ClientError as exc:
                        if error_code(exc) in ("NotFound", "NotFoundException"):
                            self.add("missing", exp, f"deleted outside CloudFormation (stack {exp.stack} still lists it as {exp.logical})")
                            continue
                        raise
            except AwsError as exc:
                self.out.notes.append(str(exc))

    def subscriptions(self, expected: list[_Expected]) -> None:
        self.out.checked["subscriptions"] = len(expected)
        if not expected:
            return
        sns = self.aws.client("sns")
        by_topic: dict[str, list[dict[str, Any]] | None] = {}
        for exp in expected:
            topic, protocol, endpoint = exp.props.get("TopicArn"), exp.props.get("Protocol"), exp.props.get("Endpoint")
            if not (isinstance(topic, str) and isinstance(protocol, str) and isinstance(endpoint, str)):
                continue  # unresolved (UNKNOWN) or absent: nothing to look for
            if topic not in by_topic:
                by_topic[topic] = _list_subscriptions(sns, topic)
            subs = by_topic[topic]
            label = f"{protocol}:{endpoint}"
            if subs is None:
                continue  # the topic is gone: reported once as a missing topic
            match = [s for s in subs if s.get("Protocol") == protocol and s.get("Endpoint") == endpoint]
            if not match:
                self.add("subscription-gone", exp, f"not subscribed to {topic} any more: nobody there hears an alarm", label)
            elif all(_pending(sns, s) for s in match):
                self.add("subscription-pending", exp, f"PendingConfirmation on {topic}: receives nothing until confirmed", label)


def _list_subscriptions(sns: Any, topic: str) -> list[dict[str, Any]] | None:
    subs: list[dict[str, Any]] = []
    try:
        with aws_errors(f"list the subscriptions of {topic}"):
            try:
                for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
                    subs += page.get("Subscriptions") or []
            except ClientError as exc:
                if error_code(exc) in ("NotFound", "NotFoundException"):
                    return None
                raise
    except AwsError:
        return None
    return subs


def _pending(sns: Any, sub: dict[str, Any]) -> bool:
    """The test `mlmon fire` uses (AWS and LocalStack mark a pending subscription differently)."""
    from .fire import _pending as pending

    return pending(sns, sub)


# --------------------------------------------------------------------------- helpers
def _sorted_dimensions(dims: Iterable[Any]) -> list[dict[str, Any]]:
    out = [{"Name": d.get("Name"), "Value": d.get("Value")} for d in dims if isinstance(d, dict)]
    return sorted(out, key=lambda d: (str(d["Name"]), str(d["Value"])))


def _dimensions_sorted(node: Any) -> Any:
    """Every `Dimensions` list (the alarm's, each math query's) in name order: a dimension set has no order."""
    if isinstance(node, dict):
        return {k: (sorted(v, key=lambda d: str(d.get("Name")) if isinstance(d, dict) else "") if k == "Dimensions" and isinstance(v, list)
                    else _dimensions_sorted(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_dimensions_sorted(v) for v in node]
    return node


def _dims_text(dims: list[dict[str, Any]]) -> str:
    return "{" + ", ".join(f"{d['Name']}={d['Value']}" for d in dims) + "}"


def _metrics_of(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics a metric alarm reads: its own, or every MetricStat of its math queries."""
    if alarm.get("MetricName"):
        return [{"Namespace": alarm.get("Namespace", ""), "MetricName": alarm["MetricName"], "Dimensions": alarm.get("Dimensions") or []}]
    out = []
    for query in alarm.get("Metrics") or []:
        metric = ((query.get("MetricStat") or {}).get("Metric")) or {}
        if metric.get("MetricName") and not query.get("AccountId"):
            out.append({"Namespace": metric.get("Namespace", ""), "MetricName": metric["MetricName"], "Dimensions": metric.get("Dimensions") or []})
    return out


def _window_seconds(alarm: dict[str, Any]) -> int:
    period = alarm.get("Period") or max([int((q.get("MetricStat") or {}).get("Period") or q.get("Period") or 0)
                                         for q in alarm.get("Metrics") or []] or [0])
    return int(period or 0) * int(alarm.get("EvaluationPeriods") or 1)


def _sfn(client: Any, value: str, aws: Aws) -> Any:
    return client.describe_state_machine(stateMachineArn=value)


def _topic(client: Any, value: str, aws: Aws) -> Any:
    account = aws.client("sts").get_caller_identity()["Account"]
    partition = aws.session.get_partition_for_region(aws.region)
    return client.get_topic_attributes(TopicArn=f"arn:{partition}:sns:{aws.region}:{account}:{value}")


# Dimension name -> (what it names, service, existence call, error codes meaning "does not exist",
# the namespaces whose dimension of that name names such a resource).
_RESOURCE_CHECKS: dict[str, tuple[str, str, Callable[[Any, str, Aws], Any], tuple[str, ...], tuple[str, ...]]] = {
    "FunctionName": ("Lambda function", "lambda", lambda c, v, _a: c.get_function(FunctionName=v), ("ResourceNotFoundException",),
                     ("AWS/Lambda",)),
    "StateMachineArn": ("state machine", "stepfunctions", _sfn, ("StateMachineDoesNotExist", "InvalidArn"), ("AWS/States",)),
    "RuleName": ("EventBridge rule", "events", lambda c, v, _a: c.describe_rule(Name=v), ("ResourceNotFoundException",), ("AWS/Events",)),
    "TopicName": ("SNS topic", "sns", _topic, ("NotFound", "NotFoundException"), ("AWS/SNS",)),
    "EndpointName": ("SageMaker endpoint", "sagemaker", lambda c, v, _a: c.describe_endpoint(EndpointName=v), ("ValidationException",),
                     ("AWS/SageMaker", "/aws/sagemaker/Endpoints")),
    "JobName": ("Glue job", "glue", lambda c, v, _a: c.get_job(JobName=v), ("EntityNotFoundException",), ("Glue",)),
    "QueueName": ("SQS queue", "sqs", lambda c, v, _a: c.get_queue_url(QueueName=v),
                  ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"), ("AWS/SQS",)),
    "TableName": ("DynamoDB table", "dynamodb", lambda c, v, _a: c.describe_table(TableName=v), ("ResourceNotFoundException",),
                  ("AWS/DynamoDB",)),
    "ApiId": ("API Gateway HTTP API", "apigatewayv2", lambda c, v, _a: c.get_api(ApiId=v), ("NotFoundException",), ("AWS/ApiGateway",)),
    "ApiName": ("API Gateway REST API", "apigateway", lambda c, v, _a: _rest_api_named(c, v), ("NotFoundException",),
                ("AWS/ApiGateway",)),
    "ProjectName": ("CodeBuild project", "codebuild",
                    lambda c, v, _a: _require(c.batch_get_projects(names=[v]).get("projects"), "ResourceNotFoundException"),
                    ("ResourceNotFoundException",), ("AWS/CodeBuild",)),
}
# Dimensions that name one resource: a metric found under one of them with other dimensions is the
# same resource's (a dimension mismatch); one found only under a shared value such as
# VariantName=AllTraffic is another resource's.
IDENTIFYING = {*_RESOURCE_CHECKS, "InferenceComponentName", "ClusterName", "PipelineName", "GuardrailArn", "AgentAliasArn",
               "ModelId", "InferenceProfileId"}


def _rest_api_named(client: Any, name: str) -> Any:
    """REST API metrics are named by the API's name, which no Get call takes: list and compare."""
    for page in client.get_paginator("get_rest_apis").paginate():
        for api in page.get("items") or []:
            if api.get("name") == name:
                return api
    raise ClientError({"Error": {"Code": "NotFoundException", "Message": f"no REST API named {name}"}}, "GetRestApis")


def _require(items: Any, code: str) -> Any:
    if not items:
        raise ClientError({"Error": {"Code": code, "Message": "not found"}}, "BatchGet")
    return items


# --------------------------------------------------------------------------- rendering
def text_lines(result: DiffResult) -> list[str]:
    return [f.line() for f in result.findings]


def summary_lines(result: DiffResult) -> list[str]:
    checked = ", ".join(f"{n} {k}" for k, n in result.checked.items())
    lines = [f"mlmon: note: {note}" for note in result.notes]
    if result.quiet:
        lines.append(f"mlmon: note: {len(result.quiet)} alarm(s) read metrics with no data yet while their resources exist (not run yet, "
                     f"not dead): {', '.join(sorted(result.quiet)[:10])}" + (" ..." if len(result.quiet) > 10 else ""))
    kinds = sorted({f.kind for f in result.findings})
    lines += [f"mlmon: {kind}: first step: {FIRST_STEP[kind]}" for kind in kinds]
    lines.append(f"mlmon: stack {result.stack_name}: checked {checked or 'nothing'}; "
                 + (f"{len(result.findings)} finding(s)" if result.findings else "deployed equals generated, nothing dead"))
    return lines


def to_json(result: DiffResult) -> str:
    return json.dumps({"stack": result.stack_name, "findings": [f.as_dict() for f in result.findings], "notes": result.notes,
                       "quiet": sorted(result.quiet), "checked": result.checked}, indent=2, sort_keys=True) + "\n"

