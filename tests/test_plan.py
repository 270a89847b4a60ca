"""`mlmon plan`: the review of a spec before deploying, derived from the built templates."""

from __future__ import annotations

import json

import pytest

from mlmon_cli import plan as plan_mod
from mlmon_cli.cli import EXIT_INPUT, main
from mlmon_cli.core.cost import estimate
from mlmon_cli.core.pipeline import generate as build_template
from mlmon_cli.core.pipeline import load as load_spec_text
from mlmon_cli.core.pipeline import load_path as load_spec
from mlmon_cli.plan import build_plan, mermaid, plan_from_templates, to_markdown

from .conftest import ROOT

CHURN = ROOT / "specs" / "churn-model.yaml"
RECS = ROOT / "specs" / "realtime-platform.yaml"
EMAILS = ("email ml-oncall@example.com", "email data-science@example.com")


@pytest.fixture(scope="module")
def churn():
    result = build_template(load_spec(CHURN))
    return result, build_plan(result)


def _row(plan, name, type_="alarm"):
    [row] = [r for r in plan.rows if r.name == name and r.type == type_]
    return row


def test_every_alarm_and_rule_is_a_row(churn) -> None:
    result, plan = churn
    names = [r.properties["AlarmName"] for t in [result.template, *result.nested.values()] for r in t.resources.values()
             if r.resource_type == "AWS::CloudWatch::Alarm"]
    assert sorted(r.name for r in plan.rows if r.type == "alarm") == sorted(names)
    assert plan.counts == {"alarms": result.alarms, "rules": result.rules, "composites": result.composites, "topics": 1}
    assert {r.component for r in plan.rows} == {"alert-path", "preprocess", "features", "training", "retraining", "scoring", "release"}


def test_row_in_natural_units_with_who_hears_it(churn) -> None:
    _, plan = churn
    errors = _row(plan, "churn-preprocess-Errors")
    assert (errors.component, errors.watches, errors.threshold, errors.severity) == (
        "preprocess", "Sum of AWS/Lambda Errors (FunctionName=churn-preprocess)",
        ">= 1, 1 of 1 x 600 s (missing data: notBreaching)", "critical")
    assert errors.notifies_via == ("churn-preprocess-Errors",)  # the component's only critical alarm notifies itself
    assert errors.recipients == EMAILS
    latency = _row(plan, "churn-scoring-AllTraffic-ModelLatencyP99")  # spec says 250 (ms); the metric is in µs
    assert latency.threshold == "> 250 ms (= 250000 in the metric's unit), 3 of 5 x 60 s (missing data: notBreaching; too few samples for the percentile: ignore)"
    assert latency.severity == "warning" and latency.notifies_via == ("churn-scoring-Warning",)
    rule = _row(plan, "churn-features-JobRunFailed", "rule")
    assert rule.watches == "EventBridge 'Glue Job State Change'"
    assert rule.threshold == 'matches jobName ["churn-feature-engineering"]; state ["FAILED","TIMEOUT"]'
    assert (rule.component, rule.severity, rule.recipients) == ("features", "critical", EMAILS)


def test_routes_and_existing_topics(tmp_path) -> None:
    """realtime-platform: critical to an existing topic, warnings to a new topic with email and Slack."""
    plan = build_plan(build_template(load_spec(RECS)))
    by_severity = {r.severity: r.recipients for r in plan.rows if r.type == "alarm" and r.component != "alert-path"}
    assert by_severity["critical"] == ("topic arn:aws:sns:us-east-1:123456789012:platform-oncall",)
    assert by_severity["warning"] == ("email recs-team@example.com", "slack T0123ABCD/C0123ABCD")
    text = to_markdown(plan, "recs")
    assert "existing topic arn:aws:sns:us-east-1:123456789012:platform-oncall (its subscribers are managed outside this template)" in text
    targetless = [r for r in plan.rows if r.type == "rule" and not r.topics]
    assert targetless and all(r.name.endswith("-Succeeded") for r in targetless)  # staleness rules have no target
    assert "no target (counted by its TriggeredRules alarm)" in text


def test_split_output_plans_the_same_rows() -> None:
    # with the solution-wide composites notifying, as the nested stacks' composites roll up into them
    spec = load_spec_text(RECS.read_text().replace("notify_solution: false", "notify_solution: true"), str(RECS), base=RECS.parent)
    single, split = build_plan(build_template(spec, split=False)), build_plan(build_template(spec, split=True))
    assert split.rows == single.rows  # nested stacks change composites above components, nothing the table shows
    assert split.counts["composites"] > single.counts["composites"]  # the stack composites
    assert ("recs-platform-Critical", "recs-platform-Stack-0-Critical") in split.tree or any(
        p == "recs-platform-Critical" and "-Stack-" in c for p, c in split.tree)


def test_mermaid_tree_down_to_recipients(churn) -> None:
    _, plan = churn
    chart = mermaid(plan)
    lines = chart.splitlines()
    assert lines[0] == "flowchart TD"
    ids = {line.split('"')[1]: line.strip().split("(")[0].split("[")[0].split(">")[0] for line in lines[1:] if '"' in line}
    # no solution composites by default (nobody would be notified by them); preprocess's only critical alarm
    # notifies itself, its two warnings roll up into one composite
    assert "churn-Composite" not in ids and "churn-Critical" not in ids and "churn-preprocess-Critical" not in ids
    assert f"  {ids['churn-preprocess-Warning']} --> {ids['churn-preprocess-Throttles']}" in lines
    assert f"  {ids['churn-preprocess-Warning']} -. notifies .-> {ids['topic churn-alerts']}" in lines
    assert f"  {ids['churn-preprocess-Errors']} -. notifies .-> {ids['topic churn-alerts']}" in lines
    assert f"  {ids['topic churn-alerts']} --> {ids['email ml-oncall@example.com']}" in lines
    assert f"  {ids['rule churn-features-JobRunFailed']} -. notifies .-> {ids['topic churn-alerts']}" in lines
    assert chart == mermaid(build_plan(build_template(load_spec(CHURN))))  # deterministic


def test_alarm_reaching_nobody_is_flagged() -> None:
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "orphan", "Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
        "Threshold": 3, "ComparisonOperator": "GreaterThanThreshold"}}
    plan = plan_from_templates({"": {"Resources": {"Orphan": alarm}}})
    [row] = plan.rows
    assert (row.threshold, row.recipients, row.component) == ("> 3, 1 of 1 x 60 s (missing data: missing)", (), "?")
    assert plan.silent == [row]
    assert "**1 alarm(s) notify nobody** (no SNS action on them or a composite above them, or a topic without subscribers): `orphan`" \
        in to_markdown(plan, "t")


def test_plan_carries_the_bill_of_the_build(churn) -> None:
    """The plan prices what the build wrote (core/cost.py), in Markdown and JSON; bare templates have no bill."""
    result, plan = churn
    assert plan.bill == estimate(result)
    markdown = to_markdown(plan, "t")
    assert f"## Monthly bill\n\n**${plan.bill.total:,.2f} a month**" in markdown
    assert json.loads(plan_mod.to_json(plan))["bill"] == plan.bill.to_dict()
    bare = plan_from_templates({"": result.template.to_dict()})
    assert bare.bill is None
    assert "## Monthly bill" not in to_markdown(bare, "t")
    assert json.loads(plan_mod.to_json(bare))["bill"] is None


def test_cli_markdown_and_json(runner) -> None:
    md = runner.invoke(main, ["plan", str(CHURN)])
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith(f"# Plan: {CHURN}\n\nSolution `churn`: 29 alarms, 7 composite alarms, 5 EventBridge rules, 1 topic(s).")
    for heading in ("## Alarms and rules", "## Recipients", "## Monthly bill", "## Alarm tree", "```mermaid"):
        assert heading in md.stdout
    # the same note generate gives: the churn template (64 KB) cannot be passed inline to CloudFormation
    assert md.stderr == "mlmon: the template is over 51200 bytes: deploy with --s3-bucket BUCKET\n"
    js = runner.invoke(main, ["plan", str(CHURN), "--format", "json", "--env", "dev"])
    assert js.exit_code == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["solution"] == "churn-dev" and data["silent"] == []  # --env: physical names carry the environment
    latency = next(r for r in data["rows"] if r["name"] == "churn-dev-scoring-AllTraffic-ModelLatencyP99")
    assert latency["threshold"].startswith("> 2000 ms")  # the dev overlay's threshold
    assert "release" not in {r["component"] for r in data["rows"]}  # disabled in dev
    assert {t["name"] for t in data["topics"]} == {"churn-dev-alerts"}


def test_cli_invalid_spec(runner, tmp_path) -> None:
    bad = tmp_path / "spec.yaml"
    bad.write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n  - kind: lambda\n    name: f\n")
    result = runner.invoke(main, ["plan", str(bad)])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == f"{bad}:4:5: components[0].function_name: missing required key for kind 'lambda'\n"
    assert result.stdout == ""


@pytest.mark.parametrize("spec", sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tests/golden/*/spec.yaml")]),
                         ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem)
def test_every_bundled_spec_plans_completely(spec) -> None:
    """Every row of every bundled spec and golden has its component and severity, and every alarm reaches someone."""
    result = build_template(load_spec(spec))
    plan = build_plan(result)
    assert [r.name for r in plan.rows if "?" in (r.component, r.severity)] == []
    assert plan.silent == []
    assert len([r for r in plan.rows if r.type == "alarm"]) == result.alarms
