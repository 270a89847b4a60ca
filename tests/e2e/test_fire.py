"""`mlmon fire` against LocalStack: the churn spec deployed with `mlmon deploy`, an SQS queue on
its topic; firing delivers one notification per chosen alarm through the component composites,
restores every alarm, and reports the email subscriptions still pending confirmation."""

from __future__ import annotations

from collections import Counter

import pytest

from mlmon_cli.core import naming
from mlmon_cli.core.build import build_template
from mlmon_cli.spec import load_spec
from tests.e2e.conftest import REPORT
from tests.e2e.helpers import Account, Inbox, Model
from tests.e2e.localstack import REPO_ROOT

ACCOUNT = "230000000001"
CHURN = REPO_ROOT / "specs" / "churn-model.yaml"
STACK = "fire-churn"


@pytest.fixture(scope="module")
def churn(localstack, tmp_path_factory):
    account = Account(localstack, ACCOUNT)
    tmp = tmp_path_factory.mktemp("fire")
    result = account.mlmon(tmp, "deploy", str(CHURN), "--stack-name", STACK)
    assert result.exit_code == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    spec = load_spec(CHURN)
    model = Model(build_template(spec).template.to_dict(), outputs["AlertTopicArn"])
    inbox = Inbox(account, outputs["AlertTopicArn"], "fire-churn")
    yield account, tmp, spec, model, inbox
    account.client("cloudformation").delete_stack(StackName=STACK)


def _states(account: Account, names: list[str]) -> dict[str, str]:
    res = account.client("cloudwatch").describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return {a["AlarmName"]: a["StateValue"] for a in res["MetricAlarms"] + res["CompositeAlarms"]}


def test_fire_one_alarm_per_component(churn) -> None:
    account, tmp, spec, model, inbox = churn
    composites = {c.name: naming.alarm_name(spec.solution, c.name, "Composite") for c in spec.components}
    chosen = {c: sorted(model.leaves(comp))[0] for c, comp in composites.items()}
    patterns = ["*" + name[len(spec.solution):] for name in chosen.values()]  # e.g. '*-preprocess-DurationP90'
    before = _states(account, [*model.metric, *model.composite])
    inbox.drain()
    args = ["fire", "--stack-name", STACK, "--wait", "5"]
    for pattern in patterns:
        args += ["--alarm", pattern]
    result = account.mlmon(tmp, *args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    fired = [line for line in out if line.startswith("FIRED")]
    assert len(fired) == len(chosen)
    for component, alarm in chosen.items():
        (line,) = [f for f in fired if f.split()[1] == alarm]
        assert f"-> ALARM -> {before[alarm]}; notified via {composites[component]}" in line

    expected = {composites[c] for c in chosen}  # one per chosen alarm, through its component composite
    arrived = inbox.alarm_messages(expected, timeout=20, settle=2)
    assert Counter(arrived) == Counter(expected)
    assert _states(account, list(before)) == before  # all restored

    pending = sorted(line for line in out if line.startswith("PENDING"))
    assert pending == sorted(
        f"PENDING  email {e} on {model.topic_arn}: receives nothing until confirmed" for e in spec.notifications.emails)
    assert f"TOPIC    {model.topic_arn}: 3 subscription(s), 1 confirmed, 2 pending" in out
    assert "2 subscription(s) still pending confirmation receive nothing" in result.stderr
    REPORT.setdefault("mlmon fire (churn-model.yaml)", {}).update({
        "--alarm patterns (one per component)": len(patterns),
        "alarms fired / notifications arrived": f"{len(fired)} / {len(arrived)}",
        "pending email subscriptions reported": len(pending),
    })


def test_fire_defaults_to_every_metric_alarm(churn) -> None:
    account, tmp, spec, model, inbox = churn
    inbox.drain()
    result = account.mlmon(tmp, "fire", "--stack-name", STACK, "--wait", "5")
    assert result.exit_code == 0, result.stderr
    fired = [line for line in result.stdout.splitlines() if line.startswith("FIRED")]
    assert len(fired) == len(model.metric)
    expected = Counter()
    for alarm in model.metric:  # one at a time: each transition of its composite notifies again
        expected.update(model.notifications({alarm}))
    arrived = inbox.alarm_messages(expected.elements(), timeout=30, settle=2)
    assert Counter(arrived) == expected
    REPORT.setdefault("mlmon fire (churn-model.yaml)", {})["default (every metric alarm): fired / notifications"] = (
        f"{len(fired)} / {len(arrived)}")


def test_fire_leaves_an_alarm_already_in_alarm_alone(churn) -> None:
    account, tmp, spec, model, inbox = churn
    cw = account.client("cloudwatch")
    alarm = sorted(model.metric)[0]
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="e2e: a real incident")
    inbox.drain()
    try:
        result = account.mlmon(tmp, "fire", "--stack-name", STACK, "--alarm", alarm, "--wait", "2")
        assert result.exit_code == 0, result.stderr
        assert f"SKIPPED  {alarm}: already in ALARM (a real incident?): left alone, no test notification" in result.stdout
        assert _states(account, [alarm])[alarm] == "ALARM"
        assert inbox.receive(wait=1) == []
    finally:
        cw.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="e2e: reset")


def test_fire_errors(churn) -> None:
    account, tmp, *_ = churn
    nothing = account.mlmon(tmp, "fire", "--stack-name", STACK, "--alarm", "no-such-*")
    assert nothing.exit_code == 2
    assert "--alarm no-such-*: no alarm of the stack matches; its alarms: churn-" in nothing.stderr
    missing = account.mlmon(tmp, "fire", "--stack-name", "no-such-stack")
    assert (missing.exit_code, missing.stderr.strip()) == (
        5, "mlmon: stack no-such-stack does not exist (check --stack-name and --region)")
