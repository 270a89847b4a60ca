"""The incident path on every bundled spec and golden output (core/incident.py, issue 23): tags on
every alarm, composite and rule, tag propagation on every alarm with actions, the all-clear to the
same recipients, pagers that receive only alarm payloads, low-sample percentiles, single-event
alarms that trip on one event, readable rule messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlmon_cli.core.pipeline import generate, load, load_path
from mlmon_cli.plan import build_plan

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "golden").glob("*/spec.yaml"))
TAGGED = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::Events::Rule")
REQUIRED_TAGS = {"solution", "component", "kind", "severity", "environment"}


def _resources(path: Path, env: str | None = None) -> dict:
    result = generate(load_path(path, env=env))
    out = dict(result.template.to_dict()["Resources"])
    for nested in result.nested.values():
        out.update(nested.to_dict()["Resources"])
    return out


def _tags(props: dict) -> dict:
    return {t["Key"]: t["Value"] for t in props.get("Tags") or []}


def _history(action) -> bool:
    return action == {"Ref": "AlarmHistoryTopic"} or (isinstance(action, str) and action.endswith("-alarm-history"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem)
def test_every_alarm_composite_and_rule_is_tagged_and_propagates(path: Path) -> None:
    resources = _resources(path)
    checked = 0
    for logical, res in resources.items():
        if res["Type"] not in TAGGED:
            continue
        props = res["Properties"]
        tags = _tags(props)
        assert set(tags) >= REQUIRED_TAGS, (logical, tags)
        assert tags["severity"] in ("critical", "warning", "info")
        checked += 1
        if res["Type"] != "AWS::Events::Rule" and props.get("AlarmActions"):
            assert props["ActionConfiguration"] == {"AlarmTagsPropagation": {"Enabled": True}}, logical
        if props.get("ExtendedStatistic", "").startswith("p"):
            assert props["EvaluateLowSampleCountPercentile"] == "ignore", logical
        people = [a for a in props.get("AlarmActions") or [] if not _history(a)]
        if res["Type"] != "AWS::Events::Rule" and people and path.name != "realtime-platform.yaml" and path.parent.name != "incident_path":
            assert props.get("OKActions") == people, logical  # the all-clear to the same recipients by default
    assert checked


def test_tag_values_name_component_kind_owner_and_runbook() -> None:
    r = _resources(ROOT / "specs" / "realtime-platform.yaml")
    composite = _tags(r["RecommenderCriticalComposite"]["Properties"])
    assert composite == {"solution": "recs-platform", "component": "recommender", "kind": "sagemaker_endpoint", "severity": "critical",
                         "environment": "default", "owner": "recs-team", "runbook": "https://wiki.example.com/runbooks/recs-realtime"}
    assert _tags(r["AlertPathWarningNotificationsFailedAlarm"]["Properties"])["component"] == "alert-path"
    prod = _resources(ROOT / "specs" / "churn-model.yaml", env="prod")
    assert {_tags(res["Properties"])["environment"] for res in prod.values() if res["Type"] in TAGGED} == {"prod"}


def test_https_route_resolves_and_receives_only_alarm_payloads() -> None:
    r = _resources(ROOT / "specs" / "realtime-platform.yaml")
    pager = "arn:aws:sns:us-east-1:123456789012:platform-oncall"
    notifying = [(k, res["Properties"]) for k, res in r.items() if res["Type"] in TAGGED[:2]
                 and pager in (res["Properties"].get("AlarmActions") or [])]
    assert notifying
    for logical, props in notifying:  # every alarm or composite that pages has OK actions to the pager's topic
        assert pager in props.get("OKActions", []), logical
    (https,) = [res["Properties"] for res in r.values() if res["Type"] == "AWS::SNS::Subscription"
                and res["Properties"]["Protocol"] == "https"]
    assert https["FilterPolicyScope"] == "MessageBody" and https["FilterPolicy"] == {"AlarmName": [{"exists": True}]}
    # the warning route opted out of the all-clear
    warned = [res["Properties"] for res in r.values() if res["Type"] in TAGGED[:2]
              and {"Ref": "WarningTopic"} in (res["Properties"].get("AlarmActions") or [])]
    assert warned and all("OKActions" not in p for p in warned)


SPEC = """\
solution: inc
notifications: {emails: [a@example.com]}
defaults: {evaluation_periods: 3, datapoints_to_alarm: 2}
components:
  - kind: glue_job
    name: features
    owner: data-team
    job_name: inc-features
  - kind: lambda
    name: fn
    function_name: inc-fn
    timeout_seconds: 30
"""


def test_single_event_alarms_trip_on_one_event_whatever_the_defaults() -> None:
    r = generate(load(SPEC, "spec.yaml")).template.to_dict()["Resources"]
    triggered = [res["Properties"] for res in r.values() if res["Type"] == "AWS::CloudWatch::Alarm"
                 and res["Properties"].get("MetricName") == "TriggeredRules"]
    assert triggered
    for props in triggered:
        assert (props["EvaluationPeriods"], props["DatapointsToAlarm"], props["Threshold"]) == (1, 1, 1)
    errors = r["FnErrorsAlarm"]["Properties"]  # a count of failures judged >= 1: one error is the incident
    assert (errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (1, 1)
    own = generate(load(SPEC + "    alarms: {errors: {evaluation_periods: 5, datapoints_to_alarm: 2}}\n", "spec.yaml"))
    errors = own.template.to_dict()["Resources"]["FnErrorsAlarm"]["Properties"]  # the alarm's own keys still apply
    assert (errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (5, 2)
    duration = r["FnDurationP90Alarm"]["Properties"]  # other metric alarms keep the spec's defaults
    assert (duration["EvaluationPeriods"], duration["DatapointsToAlarm"]) == (3, 2)
    assert _tags(r["FeaturesCriticalComposite"]["Properties"])["owner"] == "data-team"


def test_low_sample_percentiles_can_be_evaluated_and_the_plan_says_so() -> None:
    spec = load(SPEC.replace("datapoints_to_alarm: 2}", "datapoints_to_alarm: 2, low_sample_percentiles: evaluate}"), "spec.yaml")
    r = generate(spec).template.to_dict()["Resources"]
    assert r["FnDurationP90Alarm"]["Properties"]["EvaluateLowSampleCountPercentile"] == "evaluate"
    (row,) = [row for row in build_plan(generate(spec)).rows if row.name == "inc-fn-DurationP90"]
    assert row.threshold.endswith("; too few samples for the percentile: evaluate)")


def test_rule_messages_are_readable_text_naming_the_component() -> None:
    r = generate(load(SPEC, "spec.yaml")).template.to_dict()["Resources"]
    rules = [res["Properties"] for res in r.values() if res["Type"] == "AWS::Events::Rule"]
    assert rules
    for props in rules:
        text = props["Targets"][0]["InputTransformer"]["InputTemplate"]
        assert text.startswith("inc: ") and "\n" in text and "(features)" in text
        with pytest.raises(ValueError):
            json.loads(text)  # not a JSON string: SNS delivers the text itself
        assert not re.search(r'\\n', text)


def test_critical_failures_page_within_five_minutes_by_default() -> None:
    """docs/spec.md "Time to the first page": every built-in critical alarm on a failure (not an absence)
    needs at most 5 minutes of breaching datapoints, but for the one documented exception."""
    from mlmon_cli.components import load_all

    slow = {(name, a.key) for name, cls in load_all().items() for a in cls.alarms
            if a.policy.severity == "critical" and a.policy.enabled and not a.is_event
            and a.policy.treat_missing_data != "breaching" and a.policy.period * a.policy.datapoints_to_alarm > 300}
    assert slow == {("sagemaker_endpoint", "backlog_without_capacity")}


RECS = ROOT / "specs" / "realtime-platform.yaml"


@pytest.mark.parametrize("variant", ["as-is", "notify_solution", "rollup-solution"])
def test_one_failure_never_pages_twice_through_component_and_solution_composites(variant: str) -> None:
    text = RECS.read_text()
    if variant != "as-is":
        text = text.replace("notify_solution: false", "notify_solution: true")
    if variant == "rollup-solution":
        text = text.replace("  notify_alarms: false\n", "  notify_alarms: false\n  rollup: solution\n")
    plan = build_plan(generate(load(text, str(RECS), base=RECS.parent)))
    checked = 0
    for row in plan.rows:
        if row.type != "alarm":
            continue
        composites = [name for name in row.notifies_via if name in plan.composites]
        for topic in set(row.topics):
            paging = [c for c in composites if topic in plan.composites[c]]
            assert len(paging) <= 1, (row.name, topic, paging)
            checked += 1
    assert checked
    solution = {name: topics for name, topics in plan.composites.items() if name in ("recs-platform-Critical", "recs-platform-Warning")}
    if variant == "notify_solution":  # built, recording on the alarm-history topic only
        assert solution and all(topics == () for topics in solution.values())
    if variant == "rollup-solution":  # the only composites: they page
        assert solution and all(topics for topics in solution.values())


def test_incident_actions_are_checked_with_their_location() -> None:
    from mlmon_cli.errors import SpecError

    bad = SPEC.replace("notifications: {emails: [a@example.com]}", "notifications:\n  emails: [a@example.com]\n  incident_actions:\n"
                       "    opsitem_severity: 2\n    investigation_group_arn: arn:aws:aiops:us-east-1:1234:group/x\n")
    with pytest.raises(SpecError) as caught:
        load(bad, "spec.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "spec.yaml:5:5: notifications.incident_actions: an OpsItem needs both 'opsitem_severity' and 'opsitem_category'",
        "spec.yaml:6:30: notifications.incident_actions.investigation_group_arn: expected an ARN "
        "'arn:aws:aiops:<region>:<account>:investigation-group/<id>'",
    ]
