"""Org scale in LocalStack: a StackSet of a bundled spec in 2 member accounts x 2 Regions, the
central stack in a third account, and every member alarm reaching the central topic's subscriber
with its account and Region named.

LocalStack takes the access key ID as the account, creates StackSet instances for explicit
accounts (self-managed permissions) and delivers events bus-to-bus across accounts and Regions.
It does not emit CloudWatch "Alarm State Change" events to EventBridge (measured with 4.14: a rule
on `aws.cloudwatch` sees nothing after `set_alarm_state`), which AWS guarantees (aws-ml-facts-3 §3);
so after putting each alarm into ALARM the test puts the event CloudWatch sends, with the same
alarm name, account and Region, on the member's default bus. Everything after that is real:
the member's forwarding rule, its role, the central bus policy, the central rules, the readable
message, the topic and the subscription. Service-managed permissions (OUs) and the per-instance
report are proven with botocore Stubber in tests/test_organization.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import Account, Inbox
from tests.e2e.localstack import REPO_ROOT

ADMIN, CENTRAL = "510000000001", "510000000009"
MEMBERS = ("510000000002", "510000000003")
REGIONS = ("us-east-1", "eu-west-1")
CENTRAL_REGION = "us-east-1"
STACK_SET = "churn-org"
ALARM = "churn-preprocess-Errors"  # pages by itself (a single failure alarm of its component)


def org_spec(tmp: Path) -> Path:
    """The bundled churn spec, with an `organization:` section naming the accounts above."""
    data = yaml.safe_load((REPO_ROOT / "specs" / "churn-model.yaml").read_text(encoding="utf-8"))
    data.pop("environments", None)
    data["organization"] = {
        "central_account": CENTRAL, "central_region": CENTRAL_REGION, "member_accounts": list(MEMBERS),
        "notifications": {"emails": ["platform-oncall@example.com"]},
        "targets": [{"accounts": list(MEMBERS), "regions": list(REGIONS)}],
    }
    path = tmp / "churn-org.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def alarm_state_change(account: str, region: str, name: str) -> dict:
    """The event CloudWatch puts on the default bus when an alarm goes to ALARM (EventBridge
    events reference, events-ref-cloudwatch)."""
    detail = {"alarmName": name, "state": {"value": "ALARM", "reason": "mlmon e2e: threshold crossed",
                                           "timestamp": "2026-12-04T00:00:00.000+0000"},
              "previousState": {"value": "OK", "reason": "", "timestamp": "2026-12-04T00:00:00.000+0000"},
              "configuration": {"description": ""}}
    return {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Detail": json.dumps(detail),
            "Resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"]}


def test_stack_set_members_report_to_the_central_account(localstack, tmp_path) -> None:
    spec = org_spec(tmp_path)
    admin, central = Account(localstack, ADMIN, CENTRAL_REGION), Account(localstack, CENTRAL, CENTRAL_REGION)

    done = central.mlmon(tmp_path, "deploy", str(spec), "--central", "--stack-name", "churn-central")
    assert done.exit_code == 0, done.output
    outputs = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    inbox = Inbox(central, [outputs["AlertTopicArn"]], "central-inbox")

    started = time.monotonic()
    done = admin.mlmon(tmp_path, "deploy", str(spec), "--stack-set", STACK_SET, "--resolve-s3", "--max-concurrent-percentage", "100",
                       "--failure-tolerance-count", "0")
    assert done.exit_code == 0, done.output
    deploy_seconds = time.monotonic() - started
    try:
        _fire_every_instance(localstack, admin, tmp_path)
        for member in MEMBERS:
            for region in REGIONS:
                account = Account(localstack, member, region)
                stacks = [s["StackName"] for s in account.client("cloudformation").list_stacks()["StackSummaries"]
                          if s["StackStatus"] == "CREATE_COMPLETE"]
                assert any(STACK_SET in s for s in stacks), (member, region, stacks)
                cw = account.client("cloudwatch")
                assert cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"], (member, region)
                cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="mlmon e2e")
                account.client("events").put_events(Entries=[alarm_state_change(member, region, ALARM)])
        messages = inbox.collect(lambda seen: len(seen) >= 4, timeout=60)
        bodies = sorted(_text(m["Message"]) for m in messages)
        where = sorted((m, r) for m in MEMBERS for r in REGIONS)
        assert len(bodies) == 4, bodies
        for (member, region), body in zip(where, sorted(bodies, key=lambda b: (_field(b, "Account"), _field(b, "Region")))):
            assert _field(body, "Account") == member and _field(body, "Region") == region, body
            assert "Component: preprocess" in body and "Severity: critical" in body and "Solution: churn" in body, body
            assert f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{ALARM}\n" in body, body
            # plain text with real line breaks; LocalStack drops a plain-text template's first and last characters
            # (docs/e2e.md), AWS delivers it whole
            assert ("c" + body).startswith(f"churn: CRITICAL preprocess: {ALARM} is in ALARM\nAccount: {member}\n"), body

        # A job failure in one member: the member's readable rule forwards it, the central copy names where.
        member = Account(localstack, MEMBERS[1], REGIONS[1])
        member.client("events").put_events(Entries=[{
            "Source": "aws.glue", "DetailType": "Glue Job State Change",
            "Detail": json.dumps({"jobName": "churn-feature-engineering", "state": "FAILED", "jobRunId": "jr_1",
                                  "message": "OutOfMemoryError"})}])
        failures = inbox.collect(lambda seen: bool(seen), timeout=30)
        assert len(failures) == 1, failures
        # the member's plain-text message with the account and Region in front; LocalStack drops a plain-text
        # template's first and last characters (docs/e2e.md), AWS delivers it whole
        assert ("A" + _text(failures[0]["Message"])).startswith(
            f"Account {MEMBERS[1]}, Region {REGIONS[1]}: churn: Glue job churn-feature-engineering"), failures
        print(f"stack set of 4 instances deployed in {deploy_seconds:.0f} s")
    finally:
        gone = admin.mlmon(tmp_path, "delete", "--stack-set", STACK_SET, "--accounts", ",".join(MEMBERS),
                           "--regions", ",".join(REGIONS), "--yes")
        central.mlmon(tmp_path, "delete", "--stack-name", "churn-central", "--yes")
    assert gone.exit_code == 0, gone.output
    for member in MEMBERS:
        for region in REGIONS:
            left = Account(localstack, member, region).client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
            assert not left, (member, region)


def _fire_every_instance(localstack, admin: Account, tmp_path: Path) -> None:
    """`mlmon fire --stack-set` from the administrator account: it assumes the StackSet execution
    role in each member account (LocalStack maps the assumed role's keys to that account), fires
    the paging alarm of each instance and restores it. An SQS subscriber of each member's topic
    proves what arrived where; an account without an instance is FAILED (exit 5)."""
    from tests.e2e.helpers import alarm_notifications

    inboxes = {}
    for member in MEMBERS:
        for region in REGIONS:
            account = Account(localstack, member, region)
            (stack,) = [s for s in account.client("cloudformation").describe_stacks()["Stacks"] if STACK_SET in s["StackName"]]
            topic = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["AlertTopicArn"]
            inboxes[(member, region)] = (Inbox(account, [topic], "fire-inbox"), topic, stack["StackName"])
    fired = admin.mlmon(tmp_path, "fire", "--stack-set", STACK_SET, "--accounts", ",".join(MEMBERS), "--regions", ",".join(REGIONS),
                        "--alarm", ALARM, "--wait", "2")
    assert fired.exit_code == 0, fired.output
    lines = fired.stdout.splitlines()
    assert len(lines) == 4, fired.stdout
    for (member, region), (inbox, topic, stack) in sorted(inboxes.items()):
        assert f"{member}\t{region}\tFIRED\t{stack}: 1 of 1 alarm(s) fired and restored; reached {topic} " in fired.stdout, fired.stdout
        got = alarm_notifications(inbox.collect(lambda seen, t=topic: (ALARM, t, "ALARM") in alarm_notifications(seen), timeout=30))
        assert got[(ALARM, topic, "ALARM")] == 1, (member, region, got)  # its own account's alarm, on its own topic, once
    assert f"{MEMBERS[0]} {REGIONS[1]}: mlmon: {ALARM}: " in fired.stderr  # progress names the instance

    nowhere = admin.mlmon(tmp_path, "fire", "--stack-set", STACK_SET, "--accounts", "510000000004", "--regions", REGIONS[0], "--alarm", ALARM)
    assert (nowhere.exit_code, nowhere.stdout) == (5, f"510000000004\t{REGIONS[0]}\tFAILED\tno stack of StackSet {STACK_SET} "
                                                      f"in 510000000004 {REGIONS[0]}\n"), nowhere.output
    assert "mlmon: 1 of 1 stack instance(s) could not be fired" in nowhere.stderr


def _text(body: str) -> str:
    """A message as people read it (a JSON string template arrives quoted)."""
    return json.loads(body) if body.startswith('"') else body


def _field(body: str, name: str) -> str:
    line = next((line for line in body.splitlines() if line.startswith(f"{name}: ")), "")
    return line.split(": ", 1)[1] if line else ""


@pytest.fixture(autouse=True)
def _quiet_boto(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
