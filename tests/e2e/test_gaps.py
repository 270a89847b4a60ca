"""LocalStack 4.14 behaviours the alert-path tests and `mlmon fire` rely on or work around
(docs/e2e.md). Each asserts the LocalStack behaviour: a failure means LocalStack
changed, and the docs/e2e.md table and the tests relying on it need revisiting."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.helpers import Account

ACCOUNT = "240000000002"  # its own account: test_review deploys into 240000000001


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


def test_eventbridge_publishes_no_aws_events_metrics(account) -> None:
    """AWS publishes TriggeredRules (and FailedInvocations) per rule; LocalStack publishes none,
    so rule alarms are proven with PutMetricData/SetAlarmState, the rule itself with PutEvents."""
    events, sns = account.client("events"), account.client("sns")
    topic = sns.create_topic(Name="gap-events")["TopicArn"]
    events.put_rule(Name="gap-rule", EventPattern=json.dumps({"source": ["aws.glue"]}))
    events.put_targets(Rule="gap-rule", Targets=[{"Id": "t", "Arn": topic}])
    assert events.put_events(Entries=[{"Source": "aws.glue", "DetailType": "x", "Detail": "{}"}])["FailedEntryCount"] == 0
    time.sleep(2)
    assert account.client("cloudwatch").list_metrics(Namespace="AWS/Events")["Metrics"] == []


def test_pending_subscription_is_listed_with_a_real_arn(account) -> None:
    """AWS lists an unconfirmed subscription as SubscriptionArn "PendingConfirmation"; LocalStack
    lists its real ARN, with attribute PendingConfirmation=true. `mlmon fire` checks both."""
    sns = account.client("sns")
    topic = sns.create_topic(Name="gap-pending")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(topic + ":")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert attrs["PendingConfirmation"] == "true"


def test_put_metric_data_accepts_aws_namespaces(account) -> None:
    """AWS refuses PutMetricData into AWS/* namespaces; LocalStack accepts it, which is what lets
    the tests emit Lambda, SageMaker and Glue metrics. In AWS, prove the path with `mlmon fire`."""
    cw = account.client("cloudwatch")
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[{"MetricName": "Errors", "Value": 1.0,
                                                            "Dimensions": [{"Name": "FunctionName", "Value": "gap"}]}])
    metrics = cw.list_metrics(Namespace="AWS/Lambda", MetricName="Errors")["Metrics"]
    assert {"Name": "FunctionName", "Value": "gap"} in [d for m in metrics for d in m["Dimensions"]]
