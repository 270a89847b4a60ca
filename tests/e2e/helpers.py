"""Shared helpers for the LocalStack e2e tests: accounts, the CLI, an SQS inbox, template facts.

Isolation: every test module deploys into its own LocalStack account (the access key ID is
the account ID), because mlmon names resources from the spec (alarm names, topic, rules, key
alias), so two stacks of one spec cannot share an account and region, exactly as in AWS.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
from click.testing import CliRunner, Result

from mlmon_cli.cli import main
from tests.e2e.localstack import REGION

PLAIN_STATISTICS = ("Sum", "Average", "Maximum", "Minimum")
COMPARISONS = {
    "GreaterThanThreshold": 1,
    "GreaterThanOrEqualToThreshold": 1,
    "LessThanThreshold": -1,
    "LessThanOrEqualToThreshold": -1,
}
_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


@dataclass(frozen=True)
class Account:
    """A LocalStack account (any 12 digits) and region; `client()` talks to it."""

    localstack: Any
    id: str
    region: str = REGION

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.localstack.client(service, aws_access_key_id=self.id, region_name=self.region, **kwargs)

    def env(self, tmp: Path) -> dict[str, str | None]:
        """Environment for the CLI: this account's keys, no user config or profile."""
        return {
            "AWS_ACCESS_KEY_ID": self.id,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": None,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        }

    def delete(self, stack: str) -> None:
        """Delete a stack and wait with `mlmon delete`, never boto3's stack_delete_complete waiter:
        the waiter stops at the first DELETE_FAILED, and LocalStack reports DELETE_FAILED for a moment
        whenever one resource fails to delete (a never-created resource, a pending http(s)
        subscription) and carries on to DELETE_COMPLETE. mlmon believes a DELETE_FAILED only once it
        holds with no new event and no resource operation under way (deploy.FailedSettle)."""
        import tempfile

        result = self.mlmon(Path(tempfile.gettempdir()), "delete", "--stack-name", stack, "--yes")
        assert result.exit_code == 0, f"mlmon delete {stack}: exit {result.exit_code}\n{result.stderr}"
        assert self.stack_status(stack) in (None, "DELETE_COMPLETE")

    def stack_status(self, stack: str) -> str | None:
        """The stack's status, None when LocalStack no longer knows it."""
        from botocore.exceptions import ClientError

        try:
            return self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError:
            return None

    def mlmon(self, tmp: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
        """Run `mlmon ARGS --endpoint-url <LocalStack>` through click's CliRunner."""
        args_list = list(args)
        if args_list and args_list[0] in ("deploy", "fire", "delete", "suggest") and "--endpoint-url" not in args_list:
            args_list += ["--endpoint-url", self.localstack.endpoint_url]
        return CliRunner().invoke(main, args_list, env={**self.env(tmp), **(env or {})}, catch_exceptions=False)

    def bucket(self, name: str) -> str:
        extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self.client("s3").create_bucket(Bucket=name, **extra)
        return name


# --------------------------------------------------------------------------- SNS -> SQS inbox
def read_envelopes(sqs: Any, url: str, wait: int = 1) -> list[dict]:
    """Read and delete every message on the queue (the first read waits up to `wait` s); SNS envelopes parsed."""
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        wait = 0


class Inbox:
    """An SQS queue subscribed to one or more topics; reads SNS envelopes (RawMessageDelivery=false)."""

    def __init__(self, account: Account, topics: Iterable[str], name: str):
        self.topics = sorted(set(topics))
        self.sqs = account.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": self.topics}},
            }],
        }
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})
        sns = account.client("sns")
        self.subscriptions = [
            sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
            for t in self.topics
        ]

    def receive(self, wait: int = 1) -> list[dict]:
        return read_envelopes(self.sqs, self.url, wait)

    def drain(self, settle: float = 0) -> list[dict]:
        return self.receive(wait=int(settle))

    def collect(self, done: Callable[[list[dict]], bool], timeout: float) -> list[dict]:
        """Read until `done(messages so far)` or the timeout; returns everything read."""
        seen: list[dict] = []
        deadline = time.monotonic() + timeout
        while not done(seen) and time.monotonic() < deadline:
            seen += self.receive(wait=min(2, max(1, int(deadline - time.monotonic()))))
        return seen

    def alarm_messages(self, expected: Iterable[tuple[str, str, str]], timeout: float, settle: float = 1.0) -> Counter:
        """Wait for the expected (alarm name, topic ARN, ALARM|OK) notifications; returns a Counter
        of every alarm notification seen, unexpected ones included."""
        want = Counter(expected)
        msgs = self.collect(lambda m: not want - alarm_notifications(m), timeout)
        if settle:
            msgs += self.receive(wait=int(settle))  # anything extra that was on its way
        return alarm_notifications(msgs)


def alarm_notifications(messages: list[dict]) -> Counter:
    """(alarm name, topic ARN, new state) of every CloudWatch alarm notification."""
    out: Counter = Counter()
    for m in messages:
        try:
            body = json.loads(m["Message"])
            out[(body["AlarmName"], m["TopicArn"], body["NewStateValue"])] += 1
        except (KeyError, ValueError, TypeError):
            continue
    return out


# --------------------------------------------------------------------------- template facts
@dataclass
class Model:
    """Facts from a generated template, resolved against the deployed stack.

    Structure-agnostic on purpose: which alarm notifies, and through which composites, is read
    from AlarmActions and AlarmRules, so the tests follow the generator's hierarchy as it evolves.
    """

    template: dict[str, Any]
    topic_arn: str
    physical: dict[str, str] = field(default_factory=dict)  # logical ID -> physical ID
    account: str = ""
    region: str = REGION
    metric: dict[str, dict[str, Any]] = field(default_factory=dict)  # alarm name -> properties
    composite: dict[str, dict[str, Any]] = field(default_factory=dict)
    logical: dict[str, str] = field(default_factory=dict)  # alarm name -> logical ID
    children: dict[str, list[str]] = field(default_factory=dict)  # composite name -> child names

    def __post_init__(self) -> None:
        resources = self.template["Resources"]
        names = {k: r["Properties"]["AlarmName"] for k, r in resources.items() if "AlarmName" in r.get("Properties", {})}
        for logical, res in resources.items():
            if res["Type"] == "AWS::CloudWatch::Alarm":
                self.metric[names[logical]] = res["Properties"]
            elif res["Type"] == "AWS::CloudWatch::CompositeAlarm":
                self.composite[names[logical]] = res["Properties"]
                rule = res["Properties"]["AlarmRule"]
                rule = rule["Fn::Sub"] if isinstance(rule, dict) else rule
                self.children[names[logical]] = [names[ref] for ref in _SUB_REF.findall(rule)]
        self.logical = {v: k for k, v in names.items()}

    def actions(self, name: str, state: str = "ALARM") -> list[str]:
        """Resolved SNS actions the alarm runs when it enters `state` (ALARM or OK)."""
        props = self.metric.get(name) or self.composite[name]
        if props.get("ActionsEnabled") is False:
            return []
        key = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
        return [a for a in self.resolve(props.get(key) or []) if a.split(":")[2] == "sns"]

    def topics(self) -> set[str]:
        """Every SNS topic an alarm or rule of the template notifies."""
        out = {t for n in [*self.metric, *self.composite] for s in ("ALARM", "OK") for t in self.actions(n, s)}
        for res in self.template["Resources"].values():
            if res["Type"] == "AWS::Events::Rule":
                out |= {self.resolve(t["Arn"]) for t in res["Properties"].get("Targets", []) if ":sns:" in str(self.resolve(t["Arn"]))}
        return out

    # -- intrinsic functions, against the deployed stack
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical, attr = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) else value["Fn::GetAtt"].split(".", 1)
            return self._getatt(logical, attr)
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            def sub(m: re.Match) -> str:
                ref = m.group(1)
                return self._getatt(*ref.split(".", 1)) if "." in ref else self._ref(ref)
            return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", sub, value["Fn::Sub"])
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::Partition": "aws"}
        if name in pseudo:
            return pseudo[name]
        if name == "AlertsTopic" and not self.physical:
            return self.topic_arn
        return self.physical[name]

    def _getatt(self, logical: str, attr: str) -> str:
        kind = self.template["Resources"][logical]["Type"]
        pid = self.physical[logical]
        arns = {
            "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{pid}",
            "AWS::CloudWatch::CompositeAlarm": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{pid}",
            "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/{pid}",
            "AWS::Events::Rule": f"arn:aws:events:{self.region}:{self.account}:rule/{pid}",
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{pid}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{pid}:*",
            "AWS::SNS::Topic": pid,
            "AWS::StepFunctions::StateMachine": pid,
        }
        if attr in ("Arn", "TopicArn") and kind in arns:
            return arns[kind]
        if attr in ("TopicName", "Name"):
            return pid.rsplit(":", 1)[-1]
        if attr == "KeyId":
            return pid
        raise AssertionError(f"the e2e resolver does not know Fn::GetAtt {logical}.{attr} ({kind}): add it")

    # -- the alarm hierarchy
    def groups(self, spec: Any) -> dict[str, list[str]]:
        """Metric alarms per spec component (by name prefix, longest wins); the rest under
        '(solution)' (e.g. alarms on the alert path itself)."""
        prefixes = sorted(((f"{spec.solution}-{c.name}-", c.name) for c in spec.components), key=lambda p: -len(p[0]))
        out: dict[str, list[str]] = {c.name: [] for c in spec.components}
        for name in sorted(self.metric):
            owner = next((comp for prefix, comp in prefixes if name.startswith(prefix)), "(solution)")
            out.setdefault(owner, []).append(name)
        return {k: v for k, v in out.items() if v}

    def leaves(self, composite: str) -> list[str]:
        """Metric alarms under a composite (through nested composites)."""
        out = []
        for child in self.children.get(composite, []):
            out += self.leaves(child) if child in self.composite else [child]
        return out

    def predict(self, before: dict[str, str], changes: dict[str, str]) -> tuple[dict[str, str], Counter]:
        """States after `changes` (composites re-evaluated as OR rules, to a fixpoint) and the
        (alarm name, topic, new state) notifications of every alarm whose state changed."""
        after = {**before, **changes}
        changed = True
        while changed:
            changed = False
            for comp, kids in self.children.items():
                new = "ALARM" if any(after.get(k) == "ALARM" for k in kids) else "OK"
                if after.get(comp) != new:
                    after[comp], changed = new, True
        notes: Counter = Counter()
        for name, state in after.items():
            if state != before.get(name):
                notes.update((name, topic, state) for topic in self.actions(name, state))
        return after, notes

    def states(self, cw: Any) -> dict[str, str]:
        return alarm_states(cw, [*self.metric, *self.composite])


def alarm_states(cw: Any, names: list[str]) -> dict[str, str]:
    out = {}
    for i in range(0, len(names), 100):
        res = cw.describe_alarms(AlarmNames=names[i:i + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        out.update({a["AlarmName"]: a["StateValue"] for a in res["MetricAlarms"] + res["CompositeAlarms"]})
    return out


ALARM_KEYS = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
              "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
              "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData")


def evaluate_now(cw: Any, name: str) -> None:
    """Make LocalStack evaluate a metric alarm now, by putting back its unchanged definition.

    LocalStack evaluates a metric alarm when it is put and then every Period x EvaluationPeriods
    (300 s or more for mlmon's alarms; CloudWatch evaluates every minute). Re-putting the
    definition read from DescribeAlarms changes nothing but the timing (asserted): datapoints,
    dimensions, threshold, composites and topics under test stay the deployed ones.
    """
    (before,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    cw.put_metric_alarm(**{k: before[k] for k in ALARM_KEYS if before.get(k) is not None})
    (after,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert {k: after.get(k) for k in ALARM_KEYS} == {k: before.get(k) for k in ALARM_KEYS}


def put_datapoints(cw: Any, model: Model, name: str, value: float, count: int, now: float | None = None) -> None:
    """`count` datapoints of `value` for the alarm's metric, one per period, newest first."""
    props = model.metric[name]
    now = time.time() if now is None else now
    data = [{"MetricName": props["MetricName"], "Dimensions": model.resolve(props.get("Dimensions", [])),
             "Value": value, "Timestamp": now - 1 - i * props["Period"]} for i in range(count)]
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace=props["Namespace"], MetricData=data[i:i + 500])


def evaluated_by_localstack(props: dict[str, Any]) -> bool:
    """LocalStack evaluates plain-statistic alarms only (never ExtendedStatistic/percentiles)."""
    return props.get("Statistic") in PLAIN_STATISTICS + ("SampleCount",) and props["ComparisonOperator"] in COMPARISONS


def wait_evaluated(cw: Any, model: Model, names: list[str] | None = None, timeout: float = 90) -> None:
    """Wait until LocalStack's scheduler (one thread, in the background) has evaluated the alarms
    whose missing-data treatment decides a state without data (breaching/notBreaching)."""
    names = [n for n in (names or model.metric) if evaluated_by_localstack(model.metric[n])
             and model.metric[n].get("TreatMissingData", "missing") in ("breaching", "notBreaching")]
    wait_for(lambda: "INSUFFICIENT_DATA" not in alarm_states(cw, names).values(), timeout,
             f"LocalStack's first evaluation of {len(names)} alarms", interval=0.5)


def calm(cw: Any, model: Model) -> list[str]:
    """Bring alarms that start in ALARM for lack of data (e.g. 'no recent success' alarms with
    missing data breaching, legitimately ALARM in a fresh account) to OK with non-breaching
    data: the state a working system is in. Returns the alarms calmed."""
    calmed = []
    for name, state in alarm_states(cw, list(model.metric)).items():
        props = model.metric[name]
        if state != "ALARM" or props.get("Statistic") not in PLAIN_STATISTICS or props["ComparisonOperator"] not in COMPARISONS:
            continue
        needed = props["EvaluationPeriods"] - props.get("DatapointsToAlarm", props["EvaluationPeriods"]) + 1
        put_datapoints(cw, model, name, calm_value(props), needed)
        evaluate_now(cw, name)
        calmed.append(name)
    if calmed:
        wait_for(lambda: set(alarm_states(cw, calmed).values()) == {"OK"}, 60, f"{calmed} to evaluate to OK", interval=0.5)
    return calmed


def settle(cw: Any, model: Model) -> None:
    """LocalStack evaluates composites only when some alarm changes state, so composites created
    after their children stay INSUFFICIENT_DATA (AWS evaluates a new composite at once). One
    child round trip OK -> INSUFFICIENT_DATA -> OK evaluates them all."""
    states = alarm_states(cw, list(model.metric))
    alarm = next(n for n, st in sorted(states.items()) if st == "OK")
    cw.set_alarm_state(AlarmName=alarm, StateValue="INSUFFICIENT_DATA", StateReason="e2e: settle composites")
    cw.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="e2e: settle composites")


def breach_value(alarm: dict[str, Any]) -> float:
    """A datapoint that breaches the alarm's threshold on its own (plain statistics only)."""
    threshold = float(alarm["Threshold"])
    return threshold + COMPARISONS[alarm["ComparisonOperator"]] * max(1.0, abs(threshold))


def calm_value(alarm: dict[str, Any]) -> float:
    """A datapoint on the safe side of the threshold."""
    threshold = float(alarm["Threshold"])
    return threshold - COMPARISONS[alarm["ComparisonOperator"]] * max(1.0, abs(threshold))


def metric_alarm_choice(model: Model, names: list[str], states: dict[str, str] | None = None) -> str | None:
    """The alarm a PutMetricData breach proves best: plain statistic, one whose ALARM sends a
    notification from `states`, own notification first, then the fewest datapoints and the
    shortest evaluation window."""
    candidates = [n for n in names if model.metric[n].get("Statistic") in PLAIN_STATISTICS
                  and model.metric[n]["ComparisonOperator"] in COMPARISONS]
    if not candidates:
        return None
    states = states or {}

    def rank(n: str) -> tuple:
        p = model.metric[n]
        silent = states.get(n) == "ALARM" or (bool(states) and not model.predict(states, {n: "ALARM"})[1])
        return (silent, not model.actions(n), p.get("DatapointsToAlarm", p["EvaluationPeriods"]),
                p["Period"] * p["EvaluationPeriods"], n)

    return min(candidates, key=rank)


# --------------------------------------------------------------------------- EventBridge samples
def sample_event(pattern: dict[str, Any], input_paths: dict[str, str], region: str) -> tuple[dict[str, Any], dict[str, str]]:
    """An event that matches `pattern`, plus the value each InputPathsMap key will take."""

    def sample(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: sample(v, k) for k, v in value.items()}
        first = value[0]
        if isinstance(first, str):
            return first
        if isinstance(first, dict) and len(first) == 1:
            op, arg = next(iter(first.items()))
            samples = {
                "prefix": lambda: f"{arg}e2e-1",
                "suffix": lambda: f"e2e-1{arg}",
                "equals-ignore-case": lambda: arg,
                "wildcard": lambda: str(arg).replace("*", "e2e"),
                "anything-but": lambda: "e2e-anything-else",
                "exists": lambda: "e2e" if arg else None,
            }
            if op in samples:
                return samples[op]()
        raise AssertionError(f"cannot build a sample for pattern {key}: {value}: teach tests/e2e/helpers.sample_event")

    detail = sample(pattern.get("detail", {}), "detail")
    values: dict[str, str] = {}
    for var, path in input_paths.items():
        parts = path.removeprefix("$.").split(".")
        if parts == ["region"]:
            values[var] = region
            continue
        assert parts[0] == "detail", f"unexpected input path {path}"
        node = detail
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], f"e2e {var} value")
        values[var] = node[parts[-1]]
    entry = {"Source": pattern["source"][0], "DetailType": pattern["detail-type"][0], "Detail": json.dumps(detail)}
    return entry, values


def delivered_by_localstack(input_template: str, values: dict[str, str]) -> str:
    """What LocalStack 4.14 delivers for an InputTransformer. AWS delivers a plain-text template as
    the text itself (the API reference's `"<instance> is in state <status>"`); LocalStack reads any
    template that is not JSON as a quoted string: it drops the first and last characters and
    delivers the rest as a JSON string (docs/e2e.md, LocalStack table)."""
    text = transformed(input_template, values)
    if input_template.startswith(('"', "{", "[")):
        return text
    return json.dumps(text[1:-1], ensure_ascii=False)


def transformed(input_template: str, values: dict[str, str]) -> str:
    """What EventBridge's InputTransformer makes of the template for these values."""
    return re.sub(r"<([A-Za-z0-9_.-]+)>", lambda m: values.get(m.group(1), m.group(0)), input_template)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- a deployed spec
def stack_model(account: Account, stack: str, spec: Any, topic_arn: str) -> Model:
    """The spec's generated template, resolved against the deployed stack's physical IDs."""
    from mlmon_cli.core.build import build_template

    pages = account.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack)
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for page in pages for r in page["StackResourceSummaries"]}
    return Model(build_template(spec).template.to_dict(), topic_arn, physical, account.id, account.region)


def calm_hierarchy(account: Account, model: Model, inbox: Inbox) -> list[str]:
    """After a deploy: wait for LocalStack's first evaluations, calm alarms that start in ALARM for
    lack of data, evaluate every composite, check the hierarchy is consistent, drain the inbox."""
    cw = account.client("cloudwatch")
    wait_evaluated(cw, model)
    calmed = calm(cw, model)
    settle(cw, model)
    states = model.states(cw)
    assert model.predict(states, {})[0] == states, "composite states disagree with their children"
    inbox.drain(settle=1)
    return calmed
