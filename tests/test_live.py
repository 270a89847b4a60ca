"""`mlmon diff`, `mlmon coverage` and `deploy --revert-drift` against botocore Stubber fixtures.

Each finding kind has a test here. The Stubber validates every request against botocore's
service model, so these also prove the calls LocalStack 4.14 cannot answer the way AWS does:
ListMetrics with a dimension filter that matches supersets, `EvaluationState`, `AWS/Events
FailedInvocations` statistics, and drift-aware change sets (`DeploymentMode=REVERT_DRIFT`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mlmon_cli.aws.coverage import (
    CoverageRequest,
    coverage,
    to_json,
    to_markdown,
    to_text,
)
from mlmon_cli.aws.diff import drift_lines
from mlmon_cli.aws.live import (
    ALARM,
    COMPOSITE,
    RULE,
    SUBSCRIPTION,
    DiffRequest,
    DiffResult,
    _Expected,
    _Live,
    diff_templates,
)
from mlmon_cli.aws.resolve import UNKNOWN, Resolver, differences

REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ml-alerts"
SESSION = boto3.session.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")  # one model loader for all tests


class FakeAws:
    """What the AWS commands use of `session.Aws`: region, session, one stubbed client per service."""

    def __init__(self) -> None:
        self.region = REGION
        self.session = SESSION
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.session.client(service)
            self.stubs[service] = Stubber(self.clients[service])
            self.stubs[service].activate()
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self.stubs[service]

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def _alarm(name: str, **extra: Any) -> dict[str, Any]:
    base = {"AlarmName": name, "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}", "ActionsEnabled": True,
            "AlarmActions": [TOPIC], "OKActions": [], "InsufficientDataActions": [], "StateValue": "OK",
            "StateUpdatedTimestamp": NOW - dt.timedelta(days=3), "MetricName": "Errors", "Namespace": "AWS/Lambda",
            "Statistic": "Sum", "Dimensions": [{"Name": "FunctionName", "Value": "churn-preprocess"}], "Period": 300,
            "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"}
    base.update(extra)
    return base


def _expected(name: str, kind: str = ALARM, **props: Any) -> _Expected:
    base = {"AlarmName": name, "ActionsEnabled": True, "AlarmActions": [TOPIC], "MetricName": "Errors", "Namespace": "AWS/Lambda",
            "Statistic": "Sum", "Dimensions": [{"Name": "FunctionName", "Value": "churn-preprocess"}], "Period": 300,
            "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"} if kind == ALARM else {}
    base.update(props)
    return _Expected(kind, name.replace("-", ""), name, base, "ml")


def _metric(ns: str, name: str, **dims: str) -> dict[str, Any]:
    return {"Namespace": ns, "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}


def _describe_alarms(aws: FakeAws, names: list[str], metric: list[dict[str, Any]], composite: list[dict[str, Any]] | None = None) -> None:
    aws.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": metric, "CompositeAlarms": composite or []},
                                        {"AlarmNames": names, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})


def _list_metrics(aws: FakeAws, found: list[dict[str, Any]], ns: str = "AWS/Lambda", name: str = "Errors", **dims: str) -> None:
    params: dict[str, Any] = {"Namespace": ns, "MetricName": name}
    if dims:
        params["Dimensions"] = [{"Name": k, "Value": v} for k, v in dims.items()]
    aws.stub("cloudwatch").add_response("list_metrics", {"Metrics": found}, params)


def _history(aws: FakeAws, name: str, *updates: dt.datetime) -> None:
    aws.stub("cloudwatch").add_response("describe_alarm_history", {"AlarmHistoryItems": [
        {"AlarmName": name, "Timestamp": t, "HistoryItemType": "ConfigurationUpdate", "HistorySummary": "Alarm updated"} for t in updates]},
        {"AlarmName": name, "HistoryItemType": "ConfigurationUpdate", "ScanBy": "TimestampDescending", "MaxRecords": 10})


def _live(aws: FakeAws) -> tuple[_Live, DiffResult]:
    out = DiffResult("ml")
    return _Live(aws, out, NOW), out  # type: ignore[arg-type]


def _kinds(out: DiffResult) -> list[tuple[str, str]]:
    return sorted((f.kind, f.name) for f in out.findings)


# --------------------------------------------------------------------------- resolving and comparing
def test_resolver_follows_the_deployed_stack() -> None:
    r = Resolver("aws", REGION, ACCOUNT, {"Env": "prod"},
                 {"Topic": ("AWS::SNS::Topic", TOPIC), "A": (ALARM, "ml-a"), "Rule": (RULE, "bus|ml-rule"),
                  "Child": ("AWS::CloudFormation::Stack", "arn:child")},
                 outputs_of=lambda stack: {"X": "out"} if stack == "arn:child" else {})
    assert r.value({"Ref": "Topic"}) == TOPIC
    assert r.value({"Fn::GetAtt": ["Topic", "TopicName"]}) == "ml-alerts"
    assert r.value({"Fn::Sub": 'ALARM("${A.Arn}") ${Env} ${AWS::AccountId} ${!Literal}'}) == \
        f'ALARM("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:ml-a") prod {ACCOUNT} ${{Literal}}'
    assert r.value({"Fn::GetAtt": "Rule.Arn"}) == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/bus/ml-rule"
    assert r.value({"Fn::GetAtt": ["Child", "Outputs.X"]}) == "out"
    assert r.value({"Fn::Join": ["-", [{"Ref": "Env"}, "x"]]}) == "prod-x"
    assert r.value({"Fn::If": ["C", 1, 2]}) is UNKNOWN
    assert r.value({"Fn::Sub": "${Nowhere}"}) is UNKNOWN
    assert r.value({"Actions": [{"Ref": "AWS::NoValue"}, "x"]}) == {"Actions": ["x"]}


def test_differences_compare_what_the_template_sets() -> None:
    assert differences({"Threshold": 1, "ActionsEnabled": True}, {"Threshold": 1.0, "ActionsEnabled": "true", "StateValue": "OK"}) == []
    assert differences({"Threshold": 1}, {"Threshold": 5.0}) == [("Threshold", 1, 5.0)]
    assert differences({"A": [1, 2]}, {"A": [1]}) == [("A", [1, 2], [1])]
    assert differences({"A": UNKNOWN, "B": [UNKNOWN]}, {"A": "x", "B": []}) == []


# --------------------------------------------------------------------------- drift findings
def test_missing_changed_and_actions_disabled_alarms() -> None:
    aws = FakeAws()
    names = ["ml-a", "ml-b", "ml-c", "ml-comp"]
    _describe_alarms(aws, names, [_alarm("ml-a", Threshold=5.0), _alarm("ml-b", ActionsEnabled=False)],
                     [{"AlarmName": "ml-comp", "ActionsEnabled": True, "AlarmActions": [TOPIC], "AlarmRule": 'ALARM("ml-a") OR ALARM("ml-x")'}])
    _history(aws, "ml-a", NOW - dt.timedelta(hours=5), NOW - dt.timedelta(hours=30))
    _list_metrics(aws, [_metric("AWS/Lambda", "Errors", FunctionName="churn-preprocess")], FunctionName="churn-preprocess")
    _history(aws, "ml-b")
    _history(aws, "ml-comp")
    live, out = _live(aws)
    live.alarms([_expected("ml-a"), _expected("ml-b"), _expected("ml-c"),
                 _expected("ml-comp", COMPOSITE, AlarmName="ml-comp", ActionsEnabled=True, AlarmActions=[TOPIC],
                           AlarmRule='ALARM("ml-a") OR ALARM("ml-b")')])
    aws.done()
    lines = sorted(f.line() for f in out.findings)
    assert lines == [
        "actions-disabled: alarm ml-b: ActionsEnabled is false: the alarm changes state but notifies nobody",
        "changed: alarm ml-a: Threshold: 1 -> 5 (spec -> deployed); alarm history: configuration updated 2026-12-04 07:00 UTC",
        'changed: composite alarm ml-comp: AlarmRule: ALARM("ml-a") OR ALARM("ml-b") -> ALARM("ml-a") OR ALARM("ml-x") (spec -> deployed)',
        "missing: alarm ml-c: deleted outside CloudFormation (stack ml still lists it as mlc)",
    ]


def test_dimension_mismatch_found_through_list_metrics() -> None:
    aws = FakeAws()
    dims = [{"Name": "EndpointName", "Value": "churn-scoring"}, {"Name": "VariantName", "Value": "AllTrafic"}]
    alarm = _alarm("ml-latency", Namespace="AWS/SageMaker", MetricName="ModelLatency", Dimensions=dims)
    _describe_alarms(aws, ["ml-latency"], [alarm])
    kw = {"ns": "AWS/SageMaker", "name": "ModelLatency"}
    _list_metrics(aws, [], **kw, EndpointName="churn-scoring", VariantName="AllTrafic")  # the exact set: nothing
    _list_metrics(aws, [_metric("AWS/SageMaker", "ModelLatency", EndpointName="churn-scoring", VariantName="AllTraffic")],
                  **kw, EndpointName="churn-scoring")
    live, out = _live(aws)
    live.alarms([_expected("ml-latency", Namespace="AWS/SageMaker", MetricName="ModelLatency", Dimensions=dims)])
    aws.done()
    assert [f.line() for f in out.findings] == [
        ("dimension-mismatch: alarm ml-latency: CloudWatch has AWS/SageMaker ModelLatency only with "
         "{EndpointName=churn-scoring, VariantName=AllTraffic}; the alarm reads {EndpointName=churn-scoring, VariantName=AllTrafic}")]


def test_another_resources_metric_under_a_shared_dimension_is_no_mismatch() -> None:
    aws = FakeAws()
    dims = [{"Name": "EndpointName", "Value": "old-scoring"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    _describe_alarms(aws, ["ml-latency"], [_alarm("ml-latency", Namespace="AWS/SageMaker", MetricName="ModelLatency", Dimensions=dims)])
    kw = {"ns": "AWS/SageMaker", "name": "ModelLatency"}
    _list_metrics(aws, [], **kw, EndpointName="old-scoring", VariantName="AllTraffic")
    _list_metrics(aws, [], **kw, EndpointName="old-scoring")  # not VariantName=AllTraffic: every endpoint has one
    aws.stub("sagemaker").add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint old-scoring.", 400,
                                           {"EndpointName": "old-scoring"})
    live, out = _live(aws)
    live.alarms([_expected("ml-latency", Namespace="AWS/SageMaker", MetricName="ModelLatency", Dimensions=dims)])
    aws.done()
    assert [f.line() for f in out.findings] == [
        "resource-gone: alarm ml-latency: SageMaker endpoint old-scoring does not exist; no AWS/SageMaker ModelLatency data in two weeks"]


def test_metric_with_more_dimensions_than_the_alarm_is_a_mismatch() -> None:
    aws = FakeAws()
    _describe_alarms(aws, ["ml-a"], [_alarm("ml-a")])
    found = [_metric("AWS/Lambda", "Errors", FunctionName="churn-preprocess", Resource="churn-preprocess:prod")]
    _list_metrics(aws, found, FunctionName="churn-preprocess")
    _list_metrics(aws, found, FunctionName="churn-preprocess")
    live, out = _live(aws)
    live.alarms([_expected("ml-a")])
    aws.done()
    assert _kinds(out) == [("dimension-mismatch", "ml-a")]
    assert "Resource=churn-preprocess:prod" in out.findings[0].detail


def test_watched_resource_gone_versus_not_run_yet() -> None:
    aws = FakeAws()
    gone = _alarm("ml-gone", Dimensions=[{"Name": "FunctionName", "Value": "old-name"}])
    quiet = _alarm("ml-quiet", StateValue="INSUFFICIENT_DATA")
    _describe_alarms(aws, ["ml-gone", "ml-quiet"], [gone, quiet])
    _list_metrics(aws, [], FunctionName="old-name")
    _list_metrics(aws, [], FunctionName="old-name")
    aws.stub("lambda").add_client_error("get_function", "ResourceNotFoundException", "Function not found", 404, {"FunctionName": "old-name"})
    _list_metrics(aws, [], FunctionName="churn-preprocess")
    _list_metrics(aws, [], FunctionName="churn-preprocess")
    aws.stub("lambda").add_response("get_function", {"Configuration": {"FunctionName": "churn-preprocess"}}, {"FunctionName": "churn-preprocess"})
    live, out = _live(aws)
    live.alarms([_expected("ml-gone", Dimensions=[{"Name": "FunctionName", "Value": "old-name"}]), _expected("ml-quiet")])
    aws.done()
    assert [f.line() for f in out.findings] == [
        "resource-gone: alarm ml-gone: Lambda function old-name does not exist; no AWS/Lambda Errors data in two weeks"]
    assert out.quiet == ["ml-quiet"]  # exists, has not run: not dead, even in INSUFFICIENT_DATA


def test_gone_queue_and_a_rest_api_found_by_its_name() -> None:
    """The new kinds' dimensions are checked too: a queue by GetQueueUrl, a REST API (metrics by
    name, no Get call takes one) by listing the APIs."""
    aws = FakeAws()
    queue = _alarm("ml-queue", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
                   Dimensions=[{"Name": "QueueName", "Value": "old-jobs"}])
    api = _alarm("ml-api", Namespace="AWS/ApiGateway", MetricName="5XXError", StateValue="INSUFFICIENT_DATA",
                 Dimensions=[{"Name": "ApiName", "Value": "scoring-api"}])
    _describe_alarms(aws, ["ml-queue", "ml-api"], [queue, api])
    for namespace, metric, dims in (("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "old-jobs"}),
                                    ("AWS/ApiGateway", "5XXError", {"ApiName": "scoring-api"})):
        for _ in range(2):
            aws.stub("cloudwatch").add_response("list_metrics", {"Metrics": []}, {
                "Namespace": namespace, "MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]})
        if namespace == "AWS/SQS":
            aws.stub("sqs").add_client_error("get_queue_url", "AWS.SimpleQueueService.NonExistentQueue", "no queue", 400,
                                             {"QueueName": "old-jobs"})
        else:
            aws.stub("apigateway").add_response("get_rest_apis", {"items": [{"id": "a1", "name": "other"},
                                                                            {"id": "b2", "name": "scoring-api"}]}, {})
    live, out = _live(aws)
    live.alarms([_expected("ml-queue", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
                           Dimensions=[{"Name": "QueueName", "Value": "old-jobs"}]),
                 _expected("ml-api", Namespace="AWS/ApiGateway", MetricName="5XXError",
                           Dimensions=[{"Name": "ApiName", "Value": "scoring-api"}])])
    aws.done()
    assert [f.line() for f in out.findings] == [
        "resource-gone: alarm ml-queue: SQS queue old-jobs does not exist; no AWS/SQS ApproximateAgeOfOldestMessage data in two weeks"]
    assert out.quiet == ["ml-api"]


def test_evaluation_error_and_insufficient_data_longer_than_the_window() -> None:
    aws = FakeAws()
    broken = _alarm("ml-broken", EvaluationState="EVALUATION_ERROR", StateReason="metric math: division by zero")
    stuck = _alarm("ml-stuck", StateValue="INSUFFICIENT_DATA", StateTransitionedTimestamp=NOW - dt.timedelta(hours=5))
    between_runs = _alarm("ml-weekly", StateValue="INSUFFICIENT_DATA", StateTransitionedTimestamp=NOW - dt.timedelta(hours=5),
                          Dimensions=[{"Name": "FunctionName", "Value": "weekly"}])
    fresh = _alarm("ml-fresh", StateValue="INSUFFICIENT_DATA", StateTransitionedTimestamp=NOW - dt.timedelta(hours=3))
    _describe_alarms(aws, ["ml-broken", "ml-stuck", "ml-weekly", "ml-fresh"], [broken, stuck, between_runs, fresh])
    found = [_metric("AWS/Lambda", "Errors", FunctionName="churn-preprocess")]
    _list_metrics(aws, found, FunctionName="churn-preprocess")
    recently = {"Namespace": "AWS/Lambda", "MetricName": "Errors", "RecentlyActive": "PT3H"}
    aws.stub("cloudwatch").add_response("list_metrics", {"Metrics": found},
                                        {**recently, "Dimensions": [{"Name": "FunctionName", "Value": "churn-preprocess"}]})
    _list_metrics(aws, [_metric("AWS/Lambda", "Errors", FunctionName="weekly")], FunctionName="weekly")
    aws.stub("cloudwatch").add_response("list_metrics", {"Metrics": []}, {**recently, "Dimensions": [{"Name": "FunctionName", "Value": "weekly"}]})
    live, out = _live(aws)
    live.alarms([_expected("ml-broken"), _expected("ml-stuck"), _expected("ml-weekly", Dimensions=[{"Name": "FunctionName", "Value": "weekly"}]),
                 _expected("ml-fresh")])
    aws.done()
    assert [f.line() for f in sorted(out.findings)] == [
        "evaluation-error: alarm ml-broken: EvaluationState EVALUATION_ERROR: metric math: division by zero",
        "insufficient-data: alarm ml-stuck: INSUFFICIENT_DATA for 5.0 h although its metric received data in the last 3 h (window 300 s)",
    ]


def _rule(aws: FakeAws, name: str, state: str, pattern: str, targets: list[dict[str, Any]], failed: float | None) -> None:
    events = aws.stub("events")
    events.add_response("describe_rule", {"Name": name, "State": state, "EventPattern": pattern}, {"Name": name})
    events.add_response("list_targets_by_rule", {"Targets": targets}, {"Rule": name})
    aws.stub("cloudwatch").add_response(
        "get_metric_statistics", {"Datapoints": [] if failed is None else [{"Sum": failed, "Timestamp": NOW}]},
        {"Namespace": "AWS/Events", "MetricName": "FailedInvocations", "Dimensions": [{"Name": "RuleName", "Value": name}],
         "StartTime": NOW - dt.timedelta(hours=24), "EndTime": NOW, "Period": 86400, "Statistics": ["Sum"]})


def test_rules_disabled_changed_failing_and_deleted() -> None:
    aws = FakeAws()
    pattern = {"source": ["aws.states"], "detail": {"status": ["FAILED"]}}
    targets = [{"Id": "AlertTopic", "Arn": TOPIC}]
    _rule(aws, "ml-off", "DISABLED", '{"source": ["aws.states"], "detail": {"status": ["FAILED"]}}', targets, None)
    _rule(aws, "ml-edited", "ENABLED", '{"source": ["aws.states"], "detail": {"status": ["TIMED_OUT"]}}', targets, None)
    _rule(aws, "ml-failing", "ENABLED", '{"source": ["aws.states"], "detail": {"status": ["FAILED"]}}', targets, 3.0)
    aws.stub("events").add_client_error("describe_rule", "ResourceNotFoundException", "Rule ml-gone does not exist.", 400, {"Name": "ml-gone"})
    live, out = _live(aws)
    props = {"Name": "x", "State": "ENABLED", "EventPattern": pattern, "Targets": targets}
    live.rules([_Expected(RULE, n, n, props, "ml") for n in ("ml-off", "ml-edited", "ml-failing", "ml-gone")])
    aws.done()
    assert [f.line() for f in sorted(out.findings)] == [
        'changed: rule ml-edited: EventPattern.detail.status[0]: FAILED -> TIMED_OUT (spec -> deployed)',
        "failed-invocations: rule ml-failing: 3 failed deliveries to its targets in the last 24 h",
        "missing: rule ml-gone: deleted outside CloudFormation (stack ml still lists it as ml-gone)",
        "rule-disabled: rule ml-off: State is DISABLED: the rule matches nothing and delivers nothing",
    ]


def test_subscriptions_pending_and_gone() -> None:
    aws = FakeAws()
    sns = aws.stub("sns")
    sns.add_response("list_subscriptions_by_topic", {"Subscriptions": [
        {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": TOPIC, "Owner": ACCOUNT},
        {"SubscriptionArn": f"{TOPIC}:1", "Protocol": "email", "Endpoint": "ok@example.com", "TopicArn": TOPIC, "Owner": ACCOUNT}]},
        {"TopicArn": TOPIC})
    sns.add_response("get_subscription_attributes", {"Attributes": {"PendingConfirmation": "false"}}, {"SubscriptionArn": f"{TOPIC}:1"})
    live, out = _live(aws)
    live.subscriptions([_Expected(SUBSCRIPTION, f"S{i}", f"{TOPIC}:{i}", {"TopicArn": TOPIC, "Protocol": "email", "Endpoint": e}, "ml")
                        for i, e in enumerate(["oncall@example.com", "ok@example.com", "left@example.com"])])
    aws.done()
    assert [f.line() for f in sorted(out.findings)] == [
        f"subscription-gone: subscription email:left@example.com: not subscribed to {TOPIC} any more: nobody there hears an alarm",
        f"subscription-pending: subscription email:oncall@example.com: PendingConfirmation on {TOPIC}: receives nothing until confirmed",
    ]


# --------------------------------------------------------------------------- templates against stacks
def _stack(name: str, stack_id: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    return {"StackName": name, "StackId": stack_id, "CreationTime": NOW, "StackStatus": "UPDATE_COMPLETE",
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (params or {}).items()]}


def _resources(aws: FakeAws, stack_id: str, rows: list[tuple[str, str, str]]) -> None:
    aws.stub("cloudformation").add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical, "ResourceStatus": "CREATE_COMPLETE",
         "LastUpdatedTimestamp": NOW} for logical, kind, physical in rows]}, {"StackName": stack_id})


def test_split_output_is_diffed_as_a_whole_with_missing_and_unexpected() -> None:
    aws = FakeAws()
    root_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/ml/1"
    child_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/ml-Critical-X/2"
    cfn = aws.stub("cloudformation")
    cfn.add_response("describe_stacks", {"Stacks": [_stack("ml", root_id)]}, {"StackName": "ml"})
    _resources(aws, root_id, [("AlertsTopic", "AWS::SNS::Topic", TOPIC), ("Critical", "AWS::CloudFormation::Stack", child_id),
                              ("OldAlarm", ALARM, "ml-old")])
    cfn.add_response("describe_stacks", {"Stacks": [_stack("ml-Critical-X", child_id, {"AlertsTopic": TOPIC})]}, {"StackName": child_id})
    _resources(aws, child_id, [("AAlarm", ALARM, "ml-a")])
    _describe_alarms(aws, ["ml-a"], [_alarm("ml-a", Threshold=3.0)])
    _history(aws, "ml-a")
    _list_metrics(aws, [_metric("AWS/Lambda", "Errors", FunctionName="churn-preprocess")], FunctionName="churn-preprocess")
    aws.stub("sns").add_response("get_topic_attributes", {"Attributes": {}}, {"TopicArn": TOPIC})
    props = dict(_expected("ml-a").props)
    props["AlarmActions"] = [{"Ref": "AlertsTopic"}]
    root = {"Resources": {"AlertsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "ml-alerts"}},
                          "Critical": {"Type": "AWS::CloudFormation::Stack",
                                       "Properties": {"TemplateURL": "stacks/critical.yaml", "Parameters": {"AlertsTopic": {"Ref": "AlertsTopic"}}}},
                          "NewRule": {"Type": RULE, "Properties": {"Name": "ml-new", "State": "ENABLED"}}}}
    child = {"Parameters": {"AlertsTopic": {"Type": "String"}},
             "Resources": {"AAlarm": {"Type": ALARM, "Properties": props},
                           "BAlarm": {"Type": ALARM, "Properties": {**props, "AlarmName": "ml-b"}}}}
    out = diff_templates(aws, DiffRequest("ml", now=NOW), root, {"critical": child})  # type: ignore[arg-type]
    aws.done()
    assert [f.line() for f in out.findings] == [
        "changed: alarm ml-a: Threshold: 1 -> 3 (spec -> deployed)",
        "missing: alarm ml-b: in the spec but not in stack ml/Critical (logical ID BAlarm)",
        "missing: rule ml-new: in the spec but not in stack ml (logical ID NewRule)",
        "unexpected: alarm ml-old: deployed in stack ml (logical ID OldAlarm) but no longer in the spec",
    ]
    assert out.findings[0].stack == "ml/Critical"


# --------------------------------------------------------------------------- deploy --revert-drift
def test_revert_drift_change_set_and_its_drift_per_property(monkeypatch) -> None:
    from mlmon_cli.aws import deploy as deploy_mod

    aws = FakeAws()
    stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/ml/1"
    cs_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/mlmon-x/1"
    template = {"Resources": {"AAlarm": {"Type": ALARM, "Properties": _expected("ml-a").props}}}
    cfn = aws.stub("cloudformation")
    cfn.add_response("describe_stacks", {"Stacks": [_stack("ml", stack_id)]}, {"StackName": "ml"})
    cfn.add_response("create_change_set", {"Id": cs_id, "StackId": stack_id},
                     {"StackName": "ml", "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "Parameters": [], "Capabilities": [],
                      "Description": "mlmon deploy", "TemplateBody": ANY, "DeploymentMode": "REVERT_DRIFT"})
    change = {"Action": "Modify", "LogicalResourceId": "AAlarm", "PhysicalResourceId": "ml-a", "ResourceType": ALARM,
              "ResourceDriftStatus": "MODIFIED", "Details": [{"Target": {
                  "Attribute": "Properties", "Name": "Threshold", "Path": "/Properties/Threshold", "RequiresRecreation": "Never",
                  "BeforeValue": "5", "AfterValue": "1", "Drift": {"PreviousValue": "1", "ActualValue": "5"}}}]}
    cfn.add_response("describe_change_set", {"ChangeSetId": cs_id, "StackId": stack_id, "Status": "CREATE_COMPLETE",
                                             "Changes": [{"Type": "Resource", "ResourceChange": change}]},
                     {"ChangeSetName": cs_id, "StackName": stack_id, "IncludePropertyValues": True})
    cfn.add_response("get_template", {"TemplateBody": "Resources: {}"}, {"StackName": stack_id, "TemplateStage": "Original"})
    cfn.add_response("describe_stacks", {"Stacks": [_stack("ml", stack_id)]}, {"StackName": stack_id})
    monkeypatch.setattr(deploy_mod, "Aws", lambda _target: aws)
    lines: list[str] = []
    result = deploy_mod.deploy_template(template, deploy_mod.DeployRequest("ml", execute=False, revert_drift=True), lines.append)
    aws.done()
    assert result.change_set_id == cs_id
    assert "      drift: MODIFIED" in lines
    assert "      ! Properties.Threshold: live 5 -> 1 (reverted to the template)" in lines


def test_revert_drift_needs_a_deployed_stack(monkeypatch) -> None:
    from mlmon_cli.aws import deploy as deploy_mod
    from mlmon_cli.errors import AwsUsageError

    aws = FakeAws()
    aws.stub("cloudformation").add_client_error("describe_stacks", "ValidationError", "Stack with id ml does not exist", 400, {"StackName": "ml"})
    monkeypatch.setattr(deploy_mod, "Aws", lambda _target: aws)
    with pytest.raises(AwsUsageError, match="--revert-drift: stack ml does not exist yet"):
        deploy_mod.deploy_template({"Resources": {}}, deploy_mod.DeployRequest("ml", revert_drift=True), lambda _l: None)


def test_drift_lines_for_a_deleted_resource() -> None:
    assert drift_lines({"ResourceDriftStatus": "DELETED", "Details": []}) == ["      drift: DELETED (deleted outside CloudFormation: recreated)"]
    assert drift_lines({"ResourceDriftStatus": "IN_SYNC"}) == []


# --------------------------------------------------------------------------- coverage
def test_coverage_watches_by_alarm_dimension_and_rule_pattern(monkeypatch) -> None:
    from mlmon_cli.aws import coverage as coverage_mod

    aws = FakeAws()
    aws.stub("lambda").add_response("list_functions", {"Functions": [
        {"FunctionName": "watched-fn", "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:watched-fn"},
        {"FunctionName": "stray-fn", "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stray-fn"}]}, {})
    sm = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
    aws.stub("stepfunctions").add_response("list_state_machines", {"stateMachines": [
        {"name": n, "stateMachineArn": sm + n, "type": "STANDARD", "creationDate": NOW} for n in ("by-rule", "orphan")]}, {})
    watching = _alarm("a", Dimensions=[{"Name": "FunctionName", "Value": "watched-fn"}])
    aws.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [watching]},
                                        {"AlarmTypes": ["MetricAlarm"]})
    aws.stub("events").add_response("list_event_buses", {"EventBuses": [{"Name": "default"}]}, {})
    aws.stub("events").add_response("list_rules", {"Rules": [{"Name": "r", "EventPattern": f'{{"detail": {{"stateMachineArn": ["{sm}by-rule"]}}}}'}]},
                                    {"EventBusName": "default"})
    cfn = aws.stub("cloudformation")
    app_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/app/1"
    cfn.add_response("list_stacks", {"StackSummaries": [
        {"StackName": "app", "StackId": app_id, "StackStatus": "CREATE_COMPLETE", "CreationTime": NOW}]}, {"StackStatusFilter": ANY})
    _resources(aws, app_id, [("Sm", "AWS::StepFunctions::StateMachine", sm + "orphan")])
    monkeypatch.setattr(coverage_mod, "Aws", lambda _target: aws)
    result = coverage(CoverageRequest(kinds=("lambda", "step_functions")))
    aws.done()
    assert [(u.kind, u.name, u.stack) for u in result.unwatched] == [("lambda", "stray-fn", None), ("step_functions", "orphan", "app")]
    assert to_text(result) == (
        "Lambda functions (lambda): 1 of 2 not watched\n"
        "  stray-fn\n"
        '    start: - {kind: lambda, name: stray-fn, function_name: "stray-fn"}\n'
        "Step Functions state machines (step_functions): 1 of 2 not watched\n"
        "  orphan  (stack app)\n"
        f"    start: mlmon init --from-stack app --region {REGION} -o app-monitoring.yaml\n")
    assert "| `orphan` | app |" in to_markdown(result)
    assert '"not_checked": {}' in to_json(result)


def test_coverage_rejects_an_unknown_kind() -> None:
    from mlmon_cli.errors import AwsUsageError

    with pytest.raises(AwsUsageError, match="--kind lamda: not a kind coverage lists"):
        coverage(CoverageRequest(kinds=("lamda",)))


def test_coverage_lists_every_kind_with_its_own_service(monkeypatch) -> None:
    from mlmon_cli.aws import coverage as coverage_mod

    aws = FakeAws()
    aws.stub("sts").add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "UserId": "AIDAEXAMPLE"}, {})
    aws.stub("apigatewayv2").add_response("get_apis", {"Items": [  # a WebSocket API is not an api_gateway_http
        {"ApiId": "h1b2c3", "Name": "chat", "ProtocolType": "HTTP", "RouteSelectionExpression": "${request.method} ${request.path}"},
        {"ApiId": "w1b2c3", "Name": "live", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}]}, {})
    aws.stub("apigateway").add_response("get_rest_apis", {"items": [{"id": "r1b2c3", "name": "scoring-api"}]}, {})
    aws.stub("glue").add_response("list_jobs", {"JobNames": ["features"]}, {})
    aws.stub("sagemaker").add_response("list_endpoints", {"Endpoints": [
        {"EndpointName": "scoring", "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/scoring", "CreationTime": NOW,
         "LastModifiedTime": NOW, "EndpointStatus": "InService"}]}, {})
    aws.stub("sagemaker").add_response("list_clusters", {"ClusterSummaries": [
        {"ClusterName": "trainers", "ClusterArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/abc123", "CreationTime": NOW,
         "ClusterStatus": "InService"}]}, {})
    aws.stub("sagemaker").add_response("list_inference_components", {"InferenceComponents": [
        {"InferenceComponentName": "ranker", "InferenceComponentArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-component/ranker",
         "EndpointName": "scoring", "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/scoring", "VariantName": "AllTraffic",
         "CreationTime": NOW, "LastModifiedTime": NOW}]}, {})
    aws.stub("sagemaker").add_response("list_model_package_groups", {"ModelPackageGroupSummaryList": [
        {"ModelPackageGroupName": "churn", "ModelPackageGroupArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn",
         "CreationTime": NOW, "ModelPackageGroupStatus": "Completed"}]}, {})
    aws.stub("sagemaker").add_response("list_pipelines", {"PipelineSummaries": [
        {"PipelineName": "train", "PipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train"}]}, {})
    aws.stub("codepipeline").add_response("list_pipelines", {"pipelines": [{"name": "release"}]}, {})
    aws.stub("codebuild").add_response("list_projects", {"projects": ["build"]}, {})
    aws.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [
        _alarm("a", Dimensions=[{"Name": "JobName", "Value": "features"}]),
        _alarm("r", Dimensions=[{"Name": "ApiName", "Value": "scoring-api"}, {"Name": "Stage", "Value": "prod"}]),
        _alarm("i", Dimensions=[{"Name": "InferenceComponentName", "Value": "ranker"}]),
        {k: v for k, v in _alarm("m").items() if k not in ("MetricName", "Namespace", "Statistic", "Dimensions")} | {"Metrics": [
            {"Id": "q", "Expression": "SELECT SUM(FailedBuilds) FROM \"AWS/CodeBuild\" WHERE ProjectName = 'build'", "Period": 300}]}]},
        {"AlarmTypes": ["MetricAlarm"]})
    aws.stub("events").add_response("list_event_buses", {"EventBuses": [{"Name": "default"}, {"Name": "ml"}]}, {})
    aws.stub("events").add_response("list_rules", {"Rules": [
        {"Name": "h", "EventPattern": '{"detail": {"ClusterName": ["trainers"]}}'}]}, {"EventBusName": "default"})
    aws.stub("events").add_response("list_rules", {"Rules": [{"Name": "r", "EventPattern": '{"detail": {"pipeline": ["release"]}}'}]},
                                    {"EventBusName": "ml"})
    aws.stub("cloudformation").add_client_error("list_stacks", "AccessDenied", "no", 403, {"StackStatusFilter": ANY})
    monkeypatch.setattr(coverage_mod, "Aws", lambda _target: aws)
    every = ("api_gateway_http", "api_gateway_rest", "glue_job", "sagemaker_endpoint", "sagemaker_pipeline", "sagemaker_inference_component", "sagemaker_hyperpod",
             "sagemaker_model_registry", "codepipeline", "codebuild")
    result = coverage(CoverageRequest(kinds=every))
    aws.done()
    assert result.counts == dict.fromkeys(every, 1)
    assert [(u.kind, u.name, u.arn, u.start) for u in result.unwatched][0] == (
        "api_gateway_http", "h1b2c3", f"arn:aws:apigateway:{REGION}::/apis/h1b2c3", '- {kind: api_gateway_http, name: h1b2c3, api_id: "h1b2c3"}')
    assert [(u.kind, u.name, u.start) for u in result.unwatched][1:] == [
        ("sagemaker_endpoint", "scoring", '- {kind: sagemaker_endpoint, name: scoring, endpoint_name: "scoring"}'),
        ("sagemaker_model_registry", "churn", '- {kind: sagemaker_model_registry, name: churn, model_package_group_name: "churn"}'),
        ("sagemaker_pipeline", "train", '- {kind: sagemaker_pipeline, name: train, pipeline_name: "train"}')]


def test_cli_usage_and_exit_code_7_documented() -> None:
    from click.testing import CliRunner

    from mlmon_cli.cli import main

    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert "diff" in top.output and "coverage" in top.output
    assert "7   diff: deployed monitoring differs from the spec or is dead;" in top.output
    bad = runner.invoke(main, ["coverage", "--kind", "lamda", "--region", REGION])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == ("mlmon: --kind lamda: not a kind coverage lists (it lists: api_gateway_http, api_gateway_rest, "
                                  "codebuild, codepipeline, dynamodb_table, glue_job, lambda, sagemaker_endpoint, sagemaker_hyperpod, "
                                  "sagemaker_inference_component, sagemaker_model_registry, sagemaker_pipeline, sqs_queue, "
                                  "step_functions)")
    fmt = runner.invoke(main, ["diff", "spec.yaml", "--stack-name", "s", "--format", "markdown"])
    assert fmt.exit_code == 2 and "'markdown' is not one of 'text', 'json'" in fmt.stderr
