"""Issue 19 part 8 in LocalStack: a template with a real queue and its dead-letter queue, `init --from-template`
(plus a DynamoDB table by name: LocalStack's DynamoDB needs DynamoDB Local, not in the e2e service set) ->
`mlmon deploy` of the merged template; then the metrics SQS and DynamoDB would publish (same namespace and
dimensions, the physical name CloudFormation gave the queue) put the alarms in ALARM and the alert reaches
a subscriber of the topic."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import REPORT
from tests.e2e.helpers import Account, Inbox, alarm_notifications, alarm_states, evaluate_now, wait_for

ACCOUNT = "250000000019"
APP = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Requests:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Failed.Arn, maxReceiveCount: 3}
  Failed:
    Type: AWS::SQS::Queue
"""
TABLE = "online-features"


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


def _physical(value: object, stack: str) -> str:
    text = value.get("Fn::Sub") if isinstance(value, dict) else value
    assert isinstance(text, str), value
    return text.replace("${AWS::StackName}", stack)


def test_dead_letter_and_throttle_alarms_fire_on_the_metrics_aws_publishes(account: Account, tmp_path: Path) -> None:
    started = time.monotonic()
    (tmp_path / "app.yaml").write_text(APP)
    spec = tmp_path / "spec.yaml"
    result = account.mlmon(tmp_path, "init", "--from-template", str(tmp_path / "app.yaml"), "-o", str(spec))
    assert result.exit_code == 0, result.stderr
    components = {c["resource"]: c for c in yaml.safe_load(spec.read_text())["components"]}
    assert components["Failed"]["dead_letter"] is True and "dead_letter" not in components["Requests"]
    assert spec.read_text().endswith("alarm on any message\n")  # the components list ends the spec: add a table by name
    spec.write_text(spec.read_text() + f"  - {{kind: dynamodb_table, name: features, table_name: {TABLE}}}\n")
    assert account.mlmon(tmp_path, "generate", str(spec), "-o", str(tmp_path / "merged.json")).exit_code == 0
    merged = json.loads((tmp_path / "merged.json").read_text())["Resources"]
    stack = "queues-and-tables"
    result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--s3-bucket", account.bucket("qt-templates"))
    assert result.exit_code == 0, result.stderr + result.stdout
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    inbox = Inbox(account, [outputs["AlertTopicArn"]], stack)
    cfn, cw = account.client("cloudformation"), account.client("cloudwatch")

    def physical_id(logical: str) -> str:
        return cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)["StackResourceDetail"]["PhysicalResourceId"]

    dlq = physical_id("Failed").rsplit("/", 1)[1]  # the queue URL's last part
    table = TABLE
    dead_letters = _physical(merged["FailedDeadLettersAlarm"]["Properties"]["AlarmName"], stack)
    throttles = _physical(merged["FeaturesWriteThrottlesAlarm"]["Properties"]["AlarmName"], stack)
    described = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=[dead_letters, throttles])["MetricAlarms"]}
    assert described[dead_letters]["Dimensions"] == [{"Name": "QueueName", "Value": dlq}]
    assert described[throttles]["Dimensions"] == [{"Name": "TableName", "Value": table}]
    assert alarm_states(cw, [dead_letters, throttles]) != {dead_letters: "ALARM", throttles: "ALARM"}

    inbox.drain()
    now = time.time()
    # What SQS publishes while a message waits in the DLQ (the redrive itself is not in NumberOfMessagesSent).
    cw.put_metric_data(Namespace="AWS/SQS", MetricData=[{"MetricName": "ApproximateNumberOfMessagesVisible", "Value": 2.0,
                                                         "Dimensions": [{"Name": "QueueName", "Value": dlq}],
                                                         "Timestamp": now - 1}])
    # Five one-minute periods of throttled writes (the alarm wants 5 of 5).
    cw.put_metric_data(Namespace="AWS/DynamoDB", MetricData=[
        {"MetricName": "WriteThrottleEvents", "Value": 4.0, "Dimensions": [{"Name": "TableName", "Value": table}],
         "Timestamp": now - 1 - 60 * i} for i in range(5)])
    for name in (dead_letters, throttles):
        evaluate_now(cw, name)
    wait_for(lambda: alarm_states(cw, [dead_letters, throttles]) == {dead_letters: "ALARM", throttles: "ALARM"}, 60,
             "both alarms in ALARM")
    seen = inbox.collect(lambda m: sum(1 for k in alarm_notifications(m) if k[2] == "ALARM") >= 2, timeout=30)
    alarmed = {k[0] for k in alarm_notifications(seen) if k[2] == "ALARM"}
    # the DLQ alarm pages directly (critical); throttling reaches people through the table's warning composite
    assert alarmed == {dead_letters, _physical(merged["FeaturesWarningComposite"]["Properties"]["AlarmName"], stack)}, seen
    REPORT.setdefault("queues and tables (issue 19)", {})["dead letters and throttles"] = (
        f"deployed, both alarms in ALARM, notified: {sorted(alarmed)} in {time.monotonic() - started:.0f} s")
    cfn.delete_stack(StackName=stack)
