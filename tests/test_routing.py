"""Severities and routing: warning alarms to their own topic, HTTPS/Lambda/Slack subscribers, OK actions."""

from __future__ import annotations

import yaml

from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import parse_spec

from .template_graph import composite_children, resources_of

SPEC = {
    "solution": "routed",
    "notifications": {
        "emails": ["oncall@example.com"],
        "https_endpoints": ["https://events.pagerduty.com/integration/abc/enqueue"],
        "lambda_arns": ["arn:aws:lambda:us-east-1:123456789012:function:ticketing"],
        "warning": {"emails": ["team@example.com"], "slack": {"workspace_id": "T1", "channel_id": "C1"}},
        "ok_notifications": True,
    },
    "components": [{
        "kind": "lambda", "name": "scorer", "function_name": "scorer", "timeout_seconds": 10,
        "runbook_url": "https://wiki.example.com/scorer",
        "alarms": {"throttles": {"severity": "critical", "runbook_url": "https://wiki.example.com/throttles"}},
    }],
}


def build(spec: dict) -> dict:
    return build_template(parse_spec(yaml.safe_dump(spec), "s.yaml")).template.to_dict()


def test_warning_alarms_route_to_their_own_topic() -> None:
    t = build(SPEC)
    r = t["Resources"]
    assert r["WarningTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    (policy,) = resources_of(t, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": "AlertsTopic"}, {"Ref": "WarningTopic"}, {"Ref": "AlarmHistoryTopic"}]
    # the override moved throttles to critical: two critical alarms share a composite; duration,
    # the only warning, notifies itself (a one-child composite would only add cost)
    children = composite_children(t)
    assert children == {"ScorerCriticalComposite": ["ScorerErrorsAlarm", "ScorerThrottlesAlarm"]}
    assert r["ScorerCriticalComposite"]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    assert r["ScorerDurationP90Alarm"]["Properties"]["AlarmActions"] == [{"Ref": "WarningTopic"}]
    assert r["ScorerDurationP90Alarm"]["Properties"]["OKActions"] == [{"Ref": "WarningTopic"}]
    for child in ("ScorerErrorsAlarm", "ScorerThrottlesAlarm"):  # quiet: they reach people through the composite
        assert r[child]["Properties"]["AlarmActions"] == [{"Ref": "AlarmHistoryTopic"}]
        assert "OKActions" not in r[child]["Properties"]
    # each topic's delivery-failure alarm tells the other topic (a broken topic cannot report itself)
    assert r["AlertPathNotificationsFailedAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "WarningTopic"}]
    assert r["AlertPathWarningNotificationsFailedAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]


def test_subscribers_of_every_protocol() -> None:
    t = build(SPEC)
    subs = {(s["Properties"]["Protocol"], s["Properties"]["Endpoint"], s["Properties"]["TopicArn"]["Ref"])
            for s in resources_of(t, "AWS::SNS::Subscription").values()}
    assert subs == {
        ("email", "oncall@example.com", "AlertsTopic"),
        ("https", "https://events.pagerduty.com/integration/abc/enqueue", "AlertsTopic"),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:ticketing", "AlertsTopic"),
        ("email", "team@example.com", "WarningTopic"),
    }
    (permission,) = resources_of(t, "AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "sns.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"Ref": "AlertsTopic"}
    (slack,) = resources_of(t, "AWS::Chatbot::SlackChannelConfiguration").values()
    assert slack["Properties"]["SnsTopicArns"] == [{"Ref": "WarningTopic"}]
    assert slack["Properties"]["IamRoleArn"] == {"Fn::GetAtt": ["WarningSlackRole", "Arn"]}


def test_runbooks_are_in_descriptions() -> None:
    r = build(SPEC)["Resources"]
    assert "Runbook: https://wiki.example.com/throttles" in r["ScorerThrottlesAlarm"]["Properties"]["AlarmDescription"]
    assert "Runbook: https://wiki.example.com/scorer" in r["ScorerErrorsAlarm"]["Properties"]["AlarmDescription"]
    assert "Runbook: https://wiki.example.com/scorer" in r["ScorerCriticalComposite"]["Properties"]["AlarmDescription"]


def test_without_a_warning_route_everything_goes_to_one_topic() -> None:
    spec = {**SPEC, "notifications": {"emails": ["oncall@example.com"]}}
    r = build(spec)["Resources"]
    assert "WarningTopic" not in r
    assert r["ScorerCriticalComposite"]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    assert r["ScorerDurationP90Alarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    # the all-clear by default: whatever notifies a route's topic also tells it when it is over
    assert r["ScorerDurationP90Alarm"]["Properties"]["OKActions"] == [{"Ref": "AlertsTopic"}]
    assert r["ScorerCriticalComposite"]["Properties"]["OKActions"] == [{"Ref": "AlertsTopic"}]
    assert r["AlertPathNotificationsFailedAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]
