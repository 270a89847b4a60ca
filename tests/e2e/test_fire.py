"""`mlmon fire` against LocalStack: the churn spec deployed with `mlmon deploy`, an SQS queue on
its topics; firing delivers one notification per chosen alarm through the composites above it,
restores every alarm, and reports the subscriptions still pending confirmation."""

from __future__ import annotations

from collections import Counter

import pytest

from mlmon_cli.core.pipeline import load_spec
from tests.e2e.conftest import REPORT
from tests.e2e.helpers import Account, Inbox, calm_hierarchy, stack_model
from tests.e2e.localstack import REPO_ROOT

ACCOUNT = "230000000001"
CHURN = REPO_ROOT / "specs" / "churn-model.yaml"
STACK = "fire-churn"
FIGURES = "mlmon fire (churn-model.yaml)"


@pytest.fixture(scope="module")
def churn(localstack, tmp_path_factory):
    account = Account(localstack, ACCOUNT)
    tmp = tmp_path_factory.mktemp("fire")
    result = account.mlmon(tmp, "deploy", str(CHURN), "--stack-name", STACK, "--s3-bucket", account.bucket("fire-e2e-templates"))
    assert result.exit_code == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    spec = load_spec(CHURN)
    model = stack_model(account, STACK, spec, outputs["AlertTopicArn"])
    inbox = Inbox(account, model.topics(), "fire-churn")
    calm_hierarchy(account, model, inbox)
    yield account, tmp, spec, model, inbox
    account.client("cloudformation").delete_stack(StackName=STACK)


def _expected(model, cw, alarms: list[str]) -> Counter:
    """What firing `alarms` one at a time (ALARM, then restored) sends, from the current states."""
    states = model.states(cw)
    total: Counter = Counter()
    for alarm in alarms:
        during, fired = model.predict(states, {alarm: "ALARM"})
        states, restored = model.predict(during, {alarm: states[alarm]})
        total += fired + restored
    return total


def test_fire_one_alarm_per_component(churn) -> None:
    account, tmp, spec, model, inbox = churn
    cw = account.client("cloudwatch")
    groups = model.groups(spec)
    chosen = {g: names[0] for g, names in groups.items() if g != "(solution)"}
    assert len(chosen) == len(spec.components)
    patterns = ["*" + name[len(spec.solution):] for name in chosen.values()]  # e.g. '*-preprocess-Errors'
    before = model.states(cw)
    expected = _expected(model, cw, list(chosen.values()))
    inbox.drain()
    args = ["fire", "--stack-name", STACK, "--wait", "5"]
    for pattern in patterns:
        args += ["--alarm", pattern]
    result = account.mlmon(tmp, *args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    fired = [line for line in out if line.startswith("FIRED")]
    assert len(fired) == len(chosen)
    for alarm in chosen.values():
        (line,) = [f for f in fired if f.split()[1] == alarm]
        assert f"-> ALARM -> {before[alarm]}; notified via " in line
        via = set(line.split("notified via ")[1].split(", "))
        # people's topics only: the alarm-history topic records quiet children and pages nobody
        assert via == {n for n, topic, state in model.predict(before, {alarm: "ALARM"})[1]
                       if state == "ALARM" and not topic.endswith("-alarm-history")}

    arrived = inbox.alarm_messages(expected, timeout=20, settle=2)
    assert arrived == expected
    alarm_notes = sum(n for (_, _, state), n in arrived.items() if state == "ALARM")
    assert alarm_notes >= len(chosen)  # at least one per chosen alarm
    assert model.states(cw) == before  # all restored

    emails = [r["Properties"] for r in model.template["Resources"].values()
              if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "email"]
    pending = sorted(line for line in out if line.startswith("PENDING"))
    assert pending == sorted(f"PENDING  email {e['Endpoint']} on {model.resolve(e['TopicArn'])}: receives nothing until confirmed"
                             for e in emails)
    assert f"{len(pending)} subscription(s) still pending confirmation receive nothing" in result.stderr
    REPORT.setdefault(FIGURES, {}).update({
        "--alarm patterns (one per component)": len(patterns),
        "alarms fired / ALARM notifications arrived": f"{len(fired)} / {alarm_notes}",
        "pending email subscriptions reported": len(pending),
    })


def test_fire_defaults_to_every_metric_alarm(churn) -> None:
    account, tmp, spec, model, inbox = churn
    cw = account.client("cloudwatch")
    expected = _expected(model, cw, sorted(model.metric))
    inbox.drain()
    result = account.mlmon(tmp, "fire", "--stack-name", STACK, "--wait", "5")
    assert result.exit_code == 0, result.stderr
    fired = [line for line in result.stdout.splitlines() if line.startswith("FIRED")]
    assert len(fired) == len(model.metric)
    arrived = inbox.alarm_messages(expected, timeout=30, settle=2)
    assert arrived == expected
    REPORT.setdefault(FIGURES, {})["default (every metric alarm): fired / notifications"] = (
        f"{len(fired)} / {sum(arrived.values())}")


def test_fire_leaves_an_alarm_already_in_alarm_alone(churn) -> None:
    account, tmp, spec, model, inbox = churn
    cw = account.client("cloudwatch")
    alarm = sorted(model.metric)[0]
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="e2e: a real incident")
    inbox.drain(settle=1)
    try:
        result = account.mlmon(tmp, "fire", "--stack-name", STACK, "--alarm", alarm, "--wait", "2")
        assert result.exit_code == 0, result.stderr
        assert f"SKIPPED  {alarm}: already in ALARM (a real incident?): left alone, no test notification" in result.stdout
        assert model.states(cw)[alarm] == "ALARM"
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
