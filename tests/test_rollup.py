"""The rollup design (core/rollup.py), the bill (core/cost.py) and quiet windows (core/quiet.py)."""

from __future__ import annotations

import yaml

from mlmon_cli.cli import main
from mlmon_cli.core.build import build_template
from mlmon_cli.core.cost import estimate
from mlmon_cli.serialize import dump
from mlmon_cli.lint import lint_template
from mlmon_cli.core.pipeline import parse_spec

from .template_graph import composite_children, resources_of, unreachable_alarms

TOPIC, HISTORY = {"Ref": "AlertsTopic"}, {"Ref": "AlarmHistoryTopic"}


def spec(**notifications) -> dict:
    return {
        "solution": "r",
        "notifications": {"emails": ["a@example.com"], **notifications},
        "components": [
            {"kind": "lambda", "name": "fn", "function_name": "fn", "timeout_seconds": 30},
            {"kind": "step_functions", "name": "sm", "state_machine_name": "sm", "expect_success_within_hours": 72},
        ],
    }


def build(data: dict) -> dict:
    return build_template(parse_spec(yaml.safe_dump(data), "s.yaml")).template.to_dict()


def actions(t: dict, logical: str) -> list:
    return t["Resources"][logical]["Properties"]["AlarmActions"]


def test_component_rollup_keeps_absence_apart_and_drops_single_child_composites() -> None:
    t = build(spec())
    children = composite_children(t)
    # sm: 4 metric alarms + the execution-failed rule's 2 alarms share one composite; the
    # absence alarm is not among them (it would hold the composite in ALARM for days)
    assert sorted(children) == ["FnWarningComposite", "SmCriticalComposite"]
    assert "SmNoRecentSuccessAlarm" not in children["SmCriticalComposite"] and len(children["SmCriticalComposite"]) == 6
    assert actions(t, "SmNoRecentSuccessAlarm") == [TOPIC]
    assert actions(t, "SmCriticalComposite") == [TOPIC]
    assert actions(t, "FnErrorsAlarm") == [TOPIC]  # the only critical alarm of fn: no composite
    for child in children["SmCriticalComposite"]:
        assert actions(t, child) == [HISTORY]
    assert unreachable_alarms(t, TOPIC) == []
    warm = t["Resources"]["SmNoRecentSuccessAlarm"]["Properties"]["WarmUpConfiguration"]
    assert warm == {"WarmUpPeriodDurationInMinutes": 2880, "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True}  # 72 h > 48 h cap
    assert "Notifies the critical route's topic directly." in t["Resources"]["SmNoRecentSuccessAlarm"]["Properties"]["AlarmDescription"]
    assert "Notifies through composite alarm r-sm-Critical." in t["Resources"]["SmExecutionsFailedAlarm"]["Properties"]["AlarmDescription"]


def test_solution_rollup_one_notifying_composite_per_severity() -> None:
    t = build(spec(rollup="solution"))
    children = composite_children(t)
    assert sorted(children) == ["SolutionCriticalComposite", "SolutionWarningComposite"]  # no unread top composite
    assert len(children["SolutionCriticalComposite"]) == 7  # fn errors + the 6 failure alarms of sm, not the absence alarm
    assert actions(t, "SolutionCriticalComposite") == [TOPIC] and actions(t, "SolutionWarningComposite") == [TOPIC]
    assert actions(t, "SmNoRecentSuccessAlarm") == [TOPIC]
    assert unreachable_alarms(t, TOPIC) == []


def test_notify_true_pages_once_more_but_never_beside_a_readable_message() -> None:
    """`notify: true` adds the alarm's own page to the composite's; on a state-change alarm the rule's
    readable message already is that page, so its alarm stays on the history topic (one failed
    execution: the readable message and the composite, never a third)."""
    data = spec(rollup="solution")
    data["components"][1]["alarms"] = {"execution_failed": {"notify": True}, "executions_failed": {"notify": True}}
    t = build(data)
    children = composite_children(t)["SolutionCriticalComposite"]
    assert "SmExecutionFailedEventAlarm" in children and "SmExecutionsFailedAlarm" in children
    assert actions(t, "SmExecutionsFailedAlarm") == [TOPIC]
    assert actions(t, "SmExecutionFailedEventAlarm") == [HISTORY]
    rule = t["Resources"]["SmExecutionFailedEventRule"]["Properties"]
    assert rule["Targets"][0]["Arn"] == TOPIC


def test_none_rollup_every_alarm_notifies_itself() -> None:
    t = build(spec(rollup="none"))
    assert resources_of(t, "AWS::CloudWatch::CompositeAlarm") == {}
    assert all(a["Properties"]["AlarmActions"] == [TOPIC] for a in resources_of(t, "AWS::CloudWatch::Alarm").values())


def test_insufficient_data_switch_targets_only_the_history_topic() -> None:
    t = build(spec(insufficient_data_actions=True))
    alarms = resources_of(t, "AWS::CloudWatch::Alarm")
    assert all(a["Properties"]["InsufficientDataActions"] == [HISTORY] for a in alarms.values())
    findings = lint_template(dump(t, "json"), "t.json")
    assert [f for f in findings if f.rule == "MLM004" or f.is_error] == []  # nobody is paged on quiet periods
    assert not any("InsufficientDataActions" in c["Properties"] for c in resources_of(t, "AWS::CloudWatch::CompositeAlarm").values())


def test_quiet_windows_and_deployment_suppression() -> None:
    t = build(spec(quiet_windows=[{"name": "retrain", "schedule": "cron(0 2 * * ? *)", "duration": "PT2H",
                                   "timezone": "Europe/Dublin"}],
                   deployment_alarm="r-deploying"))
    (rule,) = resources_of(t, "AWS::CloudWatch::AlarmMuteRule").values()
    props = rule["Properties"]
    assert props["Rule"] == {"Schedule": {"Expression": "cron(0 2 * * ? *)", "Duration": "PT2H", "Timezone": "Europe/Dublin"}}
    assert props["Name"] == "r-retrain"
    # every alarm and composite that notifies people, by Ref (created first), not the quiet children nor the alert path
    assert props["MuteTargets"]["AlarmNames"] == [{"Ref": n} for n in ("FnErrorsAlarm", "FnWarningComposite",
                                                                         "SmNoRecentSuccessAlarm", "SmCriticalComposite")]
    composite = t["Resources"]["SmCriticalComposite"]["Properties"]
    assert composite["ActionsSuppressor"] == {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:r-deploying"}
    assert (composite["ActionsSuppressorWaitPeriod"], composite["ActionsSuppressorExtensionPeriod"]) == (120, 300)
    assert [f for f in lint_template(dump(t, "json"), "t.json") if f.is_error or f.severity == "warning"] == []


def test_mute_rules_hold_at_most_100_alarms() -> None:
    data = spec(rollup="none", quiet_windows=[{"name": "w", "schedule": "cron(0 2 * * ? *)", "duration": "PT1H"}])
    data["components"] = [{"kind": "lambda", "name": f"f{i}", "function_name": f"f{i}", "timeout_seconds": 30} for i in range(40)]
    t = build(data)
    rules = resources_of(t, "AWS::CloudWatch::AlarmMuteRule")
    assert sorted(rules) == ["QuietWindowW1", "QuietWindowW2"]
    assert [len(r["Properties"]["MuteTargets"]["AlarmNames"]) for r in rules.values()] == [100, 20]  # 40 x 3 alarms


def test_bill_counts_what_the_template_holds() -> None:
    result = build_template(parse_spec(yaml.safe_dump(spec()), "s.yaml"))
    bill = estimate(result)
    t = result.template.to_dict()
    alarms, composites = (len(resources_of(t, k)) for k in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"))
    assert (alarms, composites) == (11, 2)  # 3 fn + 7 sm + the topic's delivery alarm; fn warning + sm critical
    assert bill.lines == [("metric alarm (standard resolution)", 11, 0.10, 1.10), ("composite alarm", 2, 0.50, 1.00),
                          ("dashboard", 1, 3.00, 3.00), ("KMS customer-managed key", 1, 1.00, 1.00)]
    assert bill.total == 6.10
    assert bill.per_component == {"(solution)": 4.10, "fn": 0.80, "sm": 1.20}


def test_generate_prints_the_bill(runner, tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec()))
    result = runner.invoke(main, ["generate", str(path), "-o", str(tmp_path / "t.yaml")])
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    start = lines.index("mlmon: estimated CloudWatch bill: $6.10 a month (list prices of 2026-12-01, us-east-1; "
                        "usage such as SNS deliveries and log ingestion not included)")
    assert lines[start + 1:start + 8] == [
        "mlmon:   metric alarm (standard resolution): 11 x $0.10 = $1.10",
        "mlmon:   composite alarm: 2 x $0.50 = $1.00",
        "mlmon:   dashboard: 1 x $3.00 = $3.00",
        "mlmon:   KMS customer-managed key: 1 x $1.00 = $1.00",
        "mlmon:   (solution): $4.10",
        "mlmon:   sm: $1.20",
        "mlmon:   fn: $0.80",
    ]
    assert result.stdout == ""
