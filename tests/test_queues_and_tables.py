"""Issue 19 part 8: SQS queues (and dead-letter queues) and DynamoDB tables found in real ML templates are
discovered by `init`, watched by default by `generate`, and every name form works."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml
from botocore.stub import ANY

from mlmon_cli.cli import main
from mlmon_cli.components.dynamodb_table import OPERATIONS

# Every way a queue becomes a dead-letter queue, a FIFO queue, queues that are not DLQs, and the three table types.
APP = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Requests:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 86400
      RedrivePolicy: {deadLetterTargetArn: !GetAtt RequestsDlq.Arn, maxReceiveCount: 5}
  RequestsDlq:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 1209600}
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${Env}-orders.fifo"
      FifoQueue: true
      MessageRetentionPeriod: !Ref AWS::NoValue
  AsyncFailures:
    Type: AWS::SQS::Queue
  Scorer:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/scorer
      Code: {ZipFile: "def handler(e, c): return e"}
      DeadLetterConfig: {TargetArn: !GetAtt AsyncFailures.Arn}
  ScorerAsync:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Scorer
      Qualifier: $LATEST
      DestinationConfig: {OnFailure: {Destination: !GetAtt AsyncFailures.Arn}}
  RuleFailures:
    Type: AWS::SQS::Queue
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - {Id: score, Arn: !GetAtt Scorer.Arn, DeadLetterConfig: {Arn: !GetAtt RuleFailures.Arn}}
  TopicFailures:
    Type: AWS::SQS::Queue
  Alerts:
    Type: AWS::SNS::Topic
  AlertsToQueue:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Alerts
      Protocol: sqs
      Endpoint: !GetAtt Requests.Arn
      RedrivePolicy: {deadLetterTargetArn: !GetAtt TopicFailures.Arn}
  SamFailures:
    Type: AWS::SQS::Queue
  Ingest:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      InlineCode: "def handler(e, c): return e"
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt SamFailures.Arn}
      EventInvokeConfig:
        DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt SamFailures.Arn}}
      Events:
        Hourly:
          Type: Schedule
          Properties: {Schedule: rate(1 hour), DeadLetterConfig: {Arn: !GetAtt SamFailures.Arn, Type: SQS}}
  StreamFailures:
    Type: AWS::SQS::Queue
  FromStream:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
      FunctionName: !Ref Scorer
      StartingPosition: LATEST
      DestinationConfig: {OnFailure: {Destination: !Sub "${StreamFailures.Arn}"}}
  Features:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: customer, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: by-customer
          KeySchema: [{AttributeName: customer, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
  Predictions:
    Type: AWS::DynamoDB::GlobalTable
    Properties:
      TableName: !Sub "${Env}-predictions"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      Replicas: [{Region: us-east-1}, {Region: eu-west-1}]
  Runs:
    Type: AWS::Serverless::SimpleTable
"""


def _init(runner, tmp_path: Path) -> str:
    (tmp_path / "app.yaml").write_text(APP)
    result = runner.invoke(main, ["init", "--from-template", str(tmp_path / "app.yaml"), "-o", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 0, result.stderr
    return (tmp_path / "spec.yaml").read_text()


def _component(text: str, resource: str) -> str:
    """The lines `init` wrote for one resource's component."""
    block = text.split(f"    resource: {resource} ", 1)[1]
    return block.split("\n  - kind:", 1)[0].split("\n\n", 1)[0]


def test_init_marks_every_dead_letter_queue_with_its_senders(runner, tmp_path: Path) -> None:
    text = _init(runner, tmp_path)
    spec = yaml.safe_load(text)
    kinds = {c["resource"]: c["kind"] for c in spec["components"]}
    queues = ["Requests", "RequestsDlq", "Orders", "AsyncFailures", "RuleFailures", "TopicFailures", "SamFailures",
              "StreamFailures"]
    assert {r: kinds.get(r) for r in queues} == dict.fromkeys(queues, "sqs_queue")
    assert {r: kinds.get(r) for r in ("Features", "Predictions", "Runs")} == dict.fromkeys(
        ("Features", "Predictions", "Runs"), "dynamodb_table")
    dead = {c["resource"] for c in spec["components"] if c.get("dead_letter")}
    assert dead == {"RequestsDlq", "AsyncFailures", "RuleFailures", "TopicFailures", "SamFailures", "StreamFailures"}
    assert _component(text, "StreamFailures").splitlines()[1] == (  # an ARN written as !Sub "${Queue.Arn}"
        "    dead_letter: true   # the dead-letter queue of FromStream (OnFailure destination): alarm on any message")
    assert _component(text, "RequestsDlq").splitlines()[1] == (
        "    dead_letter: true   # the dead-letter queue of Requests (RedrivePolicy): alarm on any message")
    assert _component(text, "AsyncFailures").splitlines()[1] == (
        "    dead_letter: true   # the dead-letter queue of Scorer (DeadLetterConfig); ScorerAsync (OnFailure destination): "
        "alarm on any message")
    assert _component(text, "RuleFailures").splitlines()[1] == (
        "    dead_letter: true   # the dead-letter queue of Nightly (target score DeadLetterConfig): alarm on any message")
    assert _component(text, "TopicFailures").splitlines()[1] == (
        "    dead_letter: true   # the dead-letter queue of AlertsToQueue (RedrivePolicy): alarm on any message")
    assert _component(text, "SamFailures").splitlines()[1] == (
        "    dead_letter: true   # the dead-letter queue of Ingest (DeadLetterQueue); Ingest (EventInvokeConfig OnFailure); "
        "Ingest (event Hourly DeadLetterConfig): alarm on any message")
    assert _component(text, "Requests").splitlines()[1] == (
        "    retention_seconds: 86400   # MessageRetentionPeriod: the oldest-message alarm at half of it")
    assert _component(text, "Orders").splitlines()[1] == (
        "    # MessageRetentionPeriod is set by a parameter or expression: give retention_seconds (the oldest-message "
        "alarm fires at half of it)")
    assert _component(text, "Features").splitlines()[1:] == [
        "    # on-demand: throttling alarms either way",
        "    indexes: [by-customer]   # GlobalSecondaryIndexes: throttling per index"]
    assert _component(text, "Predictions").splitlines()[1:] == [
        "    # on-demand: throttling alarms either way",
        "    # global table (us-east-1, eu-west-1): watches the replica in the stack's Region; deploy in each Region to "
        "watch the others"]
    assert _component(text, "Runs").splitlines()[1] == "    # SAM SimpleTable, on-demand"


def test_generate_watches_queues_and_tables_by_their_cloudformation_names(runner, tmp_path: Path) -> None:
    """Queue names come from GetAtt QueueName (Ref is the URL), table names from Ref; a DLQ gets only its
    any-message alarm; SystemErrors sums one series per Operation."""
    _init(runner, tmp_path)
    out = tmp_path / "monitored.yaml"
    result = runner.invoke(main, ["generate", str(tmp_path / "spec.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    from cfnlint.decode import decode_str

    merged, _ = decode_str(out.read_text())
    resources = json.loads(json.dumps(merged["Resources"], default=str))
    alarms = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    def of(logical: str) -> dict[str, tuple]:
        return {k.removeprefix(logical): (p.get("MetricName"), p.get("Threshold"), p.get("TreatMissingData"))
                for k, p in alarms.items() if k.startswith(logical) and k.removeprefix(logical)[:1].isupper()
                and not k.removeprefix(logical).startswith("Dlq")}

    assert of("Requests") == {
        "OldestMessageAgeAlarm": ("ApproximateAgeOfOldestMessage", 43200, "ignore"),
        "BacklogAlarm": ("ApproximateNumberOfMessagesVisible", 1000, "ignore")}
    assert of("RequestsDlq") == {"DeadLettersAlarm": ("ApproximateNumberOfMessagesVisible", 0, "ignore")}
    assert alarms["OrdersOldestMessageAgeAlarm"]["Threshold"] == 172800  # SQS's default retention, halved
    assert alarms["RequestsDlqDeadLettersAlarm"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["RequestsDlq", "QueueName"]}}]
    assert alarms["FeaturesWriteThrottlesAlarm"]["Dimensions"] == [{"Name": "TableName", "Value": {"Ref": "Features"}}]
    assert alarms["FeaturesByCustomerWriteThrottlesAlarm"]["Dimensions"] == [
        {"Name": "TableName", "Value": {"Ref": "Features"}}, {"Name": "GlobalSecondaryIndexName", "Value": "by-customer"}]
    assert "FeaturesByCustomerSystemErrorsAlarm" not in alarms  # SystemErrors has no index dimension
    assert alarms["PredictionsReadThrottlesAlarm"]["Dimensions"] == [{"Name": "TableName", "Value": {"Ref": "Predictions"}}]
    assert alarms["RunsReadThrottlesAlarm"]["Dimensions"] == [{"Name": "TableName", "Value": {"Ref": "Runs"}}]
    errors = alarms["FeaturesSystemErrorsAlarm"]
    stats = [q["MetricStat"] for q in errors["Metrics"] if "MetricStat" in q]
    assert [s["Metric"]["Dimensions"] for s in stats] == [
        [{"Name": "TableName", "Value": {"Ref": "Features"}}, {"Name": "Operation", "Value": op}] for op in OPERATIONS]
    assert {(s["Metric"]["Namespace"], s["Metric"]["MetricName"], s["Stat"]) for s in stats} == {
        ("AWS/DynamoDB", "SystemErrors", "Sum")}
    assert len(stats) == 10  # PutMetricAlarm reads at most 10 metrics
    assert [q["Expression"] for q in errors["Metrics"] if q.get("ReturnData")] == ["SUM([m1, m2, m3, m4, m5, m6, m7, m8, m9, m10])"]

    lint = runner.invoke(main, ["lint", str(out)])
    assert lint.exit_code == 0, lint.stdout + lint.stderr
    assert "0 error(s)" in lint.stderr


def test_every_name_form_and_the_name_grammars(runner, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        solution: names
        notifications: {emails: [oncall@example.com]}
        parameters:
          Queue: {default: scoring-requests}
        components:
          - {kind: sqs_queue, name: a, queue_name: !Ref Queue}
          - {kind: sqs_queue, name: b, queue_name: !ImportValue shared-dlq-name, dead_letter: true}
          - {kind: sqs_queue, name: c, queue_name: !Sub "${Queue}-priority.fifo"}
          - {kind: dynamodb_table, name: d, table_name: !ImportValue feature-table}
          - {kind: dynamodb_table, name: e, table_name: online.features_v2}
        """))
    for command in ("validate", "plan", "lint"):
        result = runner.invoke(main, [command, str(spec)])
        assert result.exit_code == 0, (command, result.stdout, result.stderr)

    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        solution: names
        notifications: {emails: [oncall@example.com]}
        components:
          - {kind: sqs_queue, name: a, queue_name: 'arn:aws:sqs:us-east-1:123456789012:jobs'}
          - {kind: sqs_queue, name: b, queue_name: jobs.fifo.v2}
          - {kind: dynamodb_table, name: c, table_name: ab, indexes: [by-day, by-day]}
          - {kind: dynamodb_table, name: d, table_name: 'arn:aws:dynamodb:us-east-1:123456789012:table/t'}
        """))
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:4:44: components[0].queue_name: this is an ARN, not a name: give the queue name (the last part of its "
        "URL or ARN)",
        f"{bad}:5:44: components[1].queue_name: 'jobs.fifo.v2' is not an SQS queue name: at most 80 letters, digits, '-' "
        "and '_' (a FIFO queue's ends in '.fifo')",
        f"{bad}:6:5: components[2].indexes[1]: duplicate index 'by-day'",
        f"{bad}:6:49: components[2].table_name: 'ab' is not a DynamoDB table name: 3 to 255 letters, digits, '_', '-' "
        "and '.'",
        f"{bad}:7:49: components[3].table_name: this is an ARN, not a name: give the table name (the part after ':table/')",
    ]


def test_from_stack_reads_the_queue_name_from_its_url_and_the_table_name_as_is() -> None:
    """A stack's physical ID of a queue is its URL: AWS's host style and LocalStack's path style both end in the name."""
    from mlmon_cli.discover.stack import spec_from_resources
    from mlmon_cli.spec.app_template import parse_app_template

    app = parse_app_template(APP, "app.yaml")
    summaries = [
        {"LogicalResourceId": "Requests", "ResourceType": "AWS::SQS::Queue",
         "PhysicalResourceId": "https://sqs.eu-west-1.amazonaws.com/123456789012/st-Requests-AB12"},
        {"LogicalResourceId": "Orders", "ResourceType": "AWS::SQS::Queue",
         "PhysicalResourceId": "http://127.0.0.1:4566/queue/us-east-1/123456789012/dev-orders.fifo"},
        {"LogicalResourceId": "Features", "ResourceType": "AWS::DynamoDB::Table", "PhysicalResourceId": "st-Features-CD34"},
        {"LogicalResourceId": "Predictions", "ResourceType": "AWS::DynamoDB::GlobalTable", "PhysicalResourceId": "dev-predictions"},
    ]
    text = spec_from_resources("st", summaries, app).text
    for line in ("    queue_name: st-Requests-AB12   # Requests (AWS::SQS::Queue)\n",
                 "    queue_name: dev-orders.fifo   # Orders (AWS::SQS::Queue)\n",
                 "    table_name: st-Features-CD34   # Features (AWS::DynamoDB::Table)\n",
                 "    table_name: dev-predictions   # Predictions (AWS::DynamoDB::GlobalTable)\n"):
        assert line in text, text


def test_a_queue_its_dead_letter_queue_and_a_table_added_after_init_are_watched_by_default(runner, tmp_path: Path) -> None:
    """`generate` watches resources of these types the spec does not list, with the defaults `init` would write
    (the dead-letter queue as one)."""
    app = tmp_path / "app.yaml"
    app.write_text(APP.split("  Requests:\n", 1)[0] + "  Features:\n" + APP.split("  Features:\n", 1)[1])
    spec = tmp_path / "spec.yaml"
    assert runner.invoke(main, ["init", "--from-template", str(app), "-o", str(spec)]).exit_code == 0
    app.write_text(app.read_text() + (
        "  LateQueue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      RedrivePolicy: {deadLetterTargetArn: !GetAtt LateDlq.Arn, maxReceiveCount: 3}\n"
        "  LateDlq:\n"
        "    Type: AWS::SQS::Queue\n"
        "  LateTable:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 5}\n"))
    result = runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "after.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"mlmon: watched by default (3 resource(s) of {app} the spec does not list): LateQueue (sqs_queue), "
        "LateDlq (sqs_queue), LateTable (dynamodb_table); list a logical ID under 'exclude:' to leave it unwatched")
    merged = (tmp_path / "after.yaml").read_text()
    assert "LateDlqDeadLettersAlarm:" in merged and "LateDlqOldestMessageAgeAlarm:" not in merged
    assert "LateQueueOldestMessageAgeAlarm:" in merged and "LateQueueDeadLettersAlarm:" not in merged
    assert "LateTableWriteThrottlesAlarm:" in merged and "LateTableSystemErrorsAlarm:" in merged


def test_coverage_lists_queues_by_url_and_tables_by_name(monkeypatch) -> None:
    """`mlmon coverage` (botocore Stubber: ListQueues, ListTables, DescribeAlarms): a queue or table an alarm's
    dimension names is watched; the others are reported with the spec line that starts watching them."""
    from mlmon_cli.aws import coverage as coverage_mod
    from mlmon_cli.aws.coverage import CoverageRequest, coverage

    from .test_live import ACCOUNT, REGION, FakeAws, _alarm

    aws = FakeAws()
    aws.stub("sts").add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                                                         "UserId": "AIDAEXAMPLE"}, {})
    aws.stub("sqs").add_response("list_queues", {"QueueUrls": [
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/scoring-requests",
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/scoring-dlq.fifo"]}, {})
    aws.stub("dynamodb").add_response("list_tables", {"TableNames": ["features", "runs"]}, {})
    aws.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [
        _alarm("q", Dimensions=[{"Name": "QueueName", "Value": "scoring-requests"}]),
        _alarm("t", Dimensions=[{"Name": "TableName", "Value": "features"}])]}, {"AlarmTypes": ["MetricAlarm"]})
    aws.stub("events").add_response("list_event_buses", {"EventBuses": [{"Name": "default"}]}, {})
    aws.stub("events").add_response("list_rules", {"Rules": []}, {"EventBusName": "default"})
    aws.stub("cloudformation").add_client_error("list_stacks", "AccessDenied", "no", 403, {"StackStatusFilter": ANY})
    monkeypatch.setattr(coverage_mod, "Aws", lambda _target: aws)
    result = coverage(CoverageRequest(kinds=("sqs_queue", "dynamodb_table")))
    aws.done()
    assert result.counts == {"sqs_queue": 2, "dynamodb_table": 2}
    assert [(u.kind, u.name, u.arn, u.start) for u in result.unwatched] == [  # kinds in name order
        ("dynamodb_table", "runs", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/runs",
         '- {kind: dynamodb_table, name: runs, table_name: "runs"}'),
        ("sqs_queue", "scoring-dlq.fifo", f"arn:aws:sqs:{REGION}:{ACCOUNT}:scoring-dlq.fifo",
         '- {kind: sqs_queue, name: scoring-dlq-fifo, queue_name: "scoring-dlq.fifo"}')]
