"""`mlmon suggest` without AWS: proposals, the spec patch, and the whole command over botocore
Stubber fixtures (CloudFormation ListStackResources, CloudWatch DescribeAlarms, GetMetricData,
DescribeAlarmHistory). LocalStack answers GetMetricData (tests/e2e/test_suggest.py) but its
alarm history is not what AWS records, so the noise report is proven here."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber
from click.testing import CliRunner

from mlmon_cli.aws import history as history_mod
from mlmon_cli.cli import main
from mlmon_cli.suggest.noise import noise_report
from mlmon_cli.suggest.patch import patched
from mlmon_cli.suggest.propose import AlarmConfig, Series, propose, quantile, round_down, round_up, suggest

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def config(**kw) -> AlarmConfig:
    base = dict(name="a", namespace="AWS/Lambda", metric_name="Errors", dimensions=(("FunctionName", "f"),), statistic="Sum",
                period=300, comparison="GreaterThanOrEqualToThreshold", threshold=1.0, m=1, n=1, treat="notBreaching")
    return AlarmConfig(**{**base, **kw})


def test_rounding_and_quantile() -> None:
    assert (round_up(96123), round_up(2.41), round_up(0.0123), round_down(0.0123), round_down(96123)) == (97000, 2.5, 0.013, 0.012, 96000)
    assert quantile([1, 2, 3, 4, 5], 0.5) == 3 and quantile(list(range(101)), 0.99) == 99


def test_proposals() -> None:
    latency = [100.0 + (i % 10) for i in range(1000)]  # 100..109 ms
    assert propose(config(comparison="GreaterThanThreshold", threshold=24000), latency) == (140.0, "p99 of the history 109 + 20 %")
    counts = [1.0 if i % 20 == 0 else 0.0 for i in range(1000)]  # one error every 20 periods: p99 is 1
    assert propose(config(), counts)[0] == 2.0
    quiet = [0.0] * 1000  # never an error: >= the first non-zero value, i.e. any error
    assert propose(config(), quiet)[0] == 1.0
    invocations = [50.0 + (i % 7) for i in range(1000)]
    assert propose(config(comparison="LessThanThreshold", threshold=1), invocations) == (40.0, "p1 of the history 50 - 20 %")
    assert propose(config(comparison="LessThanThreshold"), [0.0] * 100)[0] is None
    assert propose(config(), [1.0] * 5) == (None, "5 datapoint(s) in the history: too few to propose (need 24)")


def test_suggest_backtests_both_thresholds() -> None:
    values = tuple([0.0] * 50 + [5.0] + [0.0] * 49 + [1.0] * 3 + [0.0] * 100)
    s = suggest(config(), Series(T0, 300, values))
    assert s.proposed == 2.0  # p99 of the history is 1 (three 1s, one 5 in 203 values)
    assert [(e.start, e.end) for e in s.current_episodes] == [(50, 51), (100, 103)]
    assert [(e.start, e.end) for e in s.proposed_episodes] == [(50, 51)]
    assert s.episode_times(s.proposed_episodes) == [{"start": "2026-11-01T04:10:00Z", "end": "2026-11-01T04:15:00Z"}]
    assert s.changes
    assert suggest(config(skip="metric math or anomaly band: not backtested"), None).note.startswith("metric math")


SPEC = """\
solution: s   # comment kept
notifications: {emails: [a@example.com]}
components:
  - kind: lambda
    name: fn
    function_name: s-fn
    alarms:
      errors: {threshold: 1, period: 300}   # ms
      throttles:
        period: 60
  - {kind: lambda, name: other, function_name: s-other}
  - kind: lambda
    name: third
    function_name: s-third
    description: |
      a block scalar
      last
"""


def test_patch_keeps_layout_and_adds_what_is_missing() -> None:
    after = patched(SPEC, {0: {"errors": 3, "throttles": 7.5, "duration_p90": 900}, 1: {"errors": 2}, 2: {"errors": 4}})
    assert "      errors: {threshold: 3, period: 300}   # ms\n" in after
    assert "      throttles:\n        period: 60\n        threshold: 7.5\n      duration_p90: {threshold: 900}\n" in after
    assert "  - {kind: lambda, name: other, function_name: s-other, alarms: {errors: {threshold: 2}}}\n" in after
    assert after.endswith("      a block scalar\n      last\n    alarms:\n      errors: {threshold: 4}\n")
    assert after.startswith("solution: s   # comment kept\n")
    loaded = yaml.safe_load(after)["components"]
    assert [c.get("alarms") for c in loaded] == [
        {"errors": {"threshold": 3, "period": 300}, "throttles": {"period": 60, "threshold": 7.5}, "duration_p90": {"threshold": 900}},
        {"errors": {"threshold": 2}}, {"errors": {"threshold": 4}}]


# --------------------------------------------------------------------------- the command over Stubber fixtures
TOPIC = "arn:aws:sns:us-east-1:111122223333:s-alerts"
HISTORY_TOPIC = "arn:aws:sns:us-east-1:111122223333:s-alarm-history"
METRIC_ALARM = {
    "AlarmName": "s-fn-Errors", "AlarmArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:s-fn-Errors",
    "Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "s-fn"}],
    "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching", "ActionsEnabled": True,
    "AlarmActions": [TOPIC], "OKActions": [TOPIC], "StateValue": "OK",
}
COMPOSITE = {
    "AlarmName": "s-Critical", "AlarmArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:s-Critical",
    "AlarmRule": 'ALARM("s-fn-Errors")', "ActionsEnabled": True, "AlarmActions": [TOPIC, HISTORY_TOPIC], "StateValue": "OK",
}


def _item(name: str, old: str, new: str, minutes: int) -> dict:
    data = {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}
    return {"AlarmName": name, "Timestamp": T0 + timedelta(minutes=minutes), "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {new}", "HistoryData": json.dumps(data)}


class _Fake:
    """Stands in for aws.session.Aws: stubbed clients, nothing leaves the process."""

    def __init__(self, stubs: dict):
        self.stubs = stubs

    def client(self, service: str):
        return self.stubs[service][0]


@pytest.fixture
def stubbed(monkeypatch):
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    cfn, cw = session.client("cloudformation"), session.client("cloudwatch")
    stubs = {"cloudformation": (cfn, Stubber(cfn)), "cloudwatch": (cw, Stubber(cw))}
    monkeypatch.setattr(history_mod, "Aws", lambda target: _Fake(stubs))
    return stubs


def _renamed(value, alarm: str):
    """A fixture with the function's alarm named `alarm` (e.g. an environment's `s-dev-fn-Errors`)."""
    return json.loads(json.dumps(value, default=str).replace("s-fn-Errors", alarm)) if alarm != "s-fn-Errors" else value


def _queue(stubs, history_answers: dict | Exception, alarm: str = "s-fn-Errors") -> None:
    cfn, cw = stubs["cloudformation"][1], stubs["cloudwatch"][1]
    cfn.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "FnErrorsAlarm", "PhysicalResourceId": alarm, "ResourceType": "AWS::CloudWatch::Alarm",
         "LastUpdatedTimestamp": T0, "ResourceStatus": "CREATE_COMPLETE"},
        {"LogicalResourceId": "SolutionCriticalComposite", "PhysicalResourceId": "s-Critical",
         "ResourceType": "AWS::CloudWatch::CompositeAlarm", "LastUpdatedTimestamp": T0, "ResourceStatus": "CREATE_COMPLETE"},
    ]}, {"StackName": "s-mon"})
    cw.add_response("describe_alarms", {"MetricAlarms": [{**METRIC_ALARM, "AlarmName": alarm, "AlarmArn": METRIC_ALARM["AlarmArn"].replace("s-fn-Errors", alarm)}],
                                        "CompositeAlarms": [_renamed(COMPOSITE, alarm)]},
                    {"AlarmNames": [alarm, "s-Critical"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    now = datetime.now(timezone.utc)
    first = now - timedelta(hours=12, seconds=now.timestamp() % 300)
    stamps = [first + timedelta(minutes=5 * i) for i in range(100)]
    values = [3.0 if i in (10, 11, 60) else 0.0 for i in range(100)]
    cw.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": "m0", "Label": "Errors", "Timestamps": stamps, "Values": values, "StatusCode": "Complete"}]},
        {"MetricDataQueries": [{"Id": "m0", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "s-fn"}]},
            "Period": 300, "Stat": "Sum"}}],
         "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"})
    for name in sorted(("s-Critical", alarm)):
        expected = {"AlarmName": name, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "HistoryItemType": "StateUpdate",
                    "StartDate": ANY, "EndDate": ANY, "ScanBy": "TimestampAscending"}
        if isinstance(history_answers, Exception):
            cw.add_client_error("describe_alarm_history", "AccessDenied", "not allowed", expected_params=expected)
            break
        items = [{**item, "AlarmName": name} for item in history_answers[name.replace(alarm, "s-fn-Errors")]]
        cw.add_response("describe_alarm_history", {"AlarmHistoryItems": items}, expected)
    for _, stub in stubs.values():
        stub.activate()


HISTORY = {
    "s-fn-Errors": [_item("s-fn-Errors", "OK", "ALARM", 50), _item("s-fn-Errors", "ALARM", "OK", 60),
                    _item("s-fn-Errors", "OK", "ALARM", 300), _item("s-fn-Errors", "ALARM", "OK", 305)],
    "s-Critical": [_item("s-Critical", "OK", "ALARM", 51), _item("s-Critical", "ALARM", "OK", 61)],
}


def _run(tmp_path, *args):
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
                    "  - kind: lambda\n    name: fn\n    function_name: s-fn\n    timeout_seconds: 30\n")
    result = CliRunner().invoke(main, ["suggest", str(spec), "--stack-name", "s-mon", "--region", "us-east-1", *args])
    return spec, result


def test_json_over_stubbed_aws(stubbed, tmp_path) -> None:
    _queue(stubbed, HISTORY)
    spec, result = _run(tmp_path, "--format", "json", "--days", "1")
    assert result.exit_code == 0, result.output
    rows = {r["alarm"]: r for r in json.loads(result.stdout)}
    errors = rows["s-fn-Errors"]
    # 100 periods: 3 at 10, 11 and 60 -> current (>= 1): 2 episodes; p99 is 3 -> proposed 4 (counts: ceil of 3.6): none
    assert (errors["current_threshold"], errors["proposed_threshold"]) == (1.0, 4.0)
    assert (errors["current_episodes"], errors["proposed_episodes"], errors["overlapping_episodes"]) == (2, 0, 0)
    assert errors["spec_path"] == "components[0].alarms.errors.threshold" and errors["spec_threshold"] == 4
    # noise: 4 changes, 2 into ALARM; messages: 2 ALARM + 2 OK to the people's topic
    assert (errors["state_changes_30d"], errors["alarms_30d"], errors["messages_30d"]) == (4, 2, 4)
    critical = rows["s-Critical"]  # ALARM once to the people's topic; the alarm-history topic pages nobody; no OK actions
    assert critical["kind"] == "composite" and (critical["state_changes_30d"], critical["messages_30d"]) == (2, 1)
    for _, stub in stubbed.values():
        stub.assert_no_pending_responses()


def test_table_names_the_noisiest_first_and_history_errors_become_a_note(stubbed, tmp_path) -> None:
    _queue(stubbed, HISTORY)
    spec, result = _run(tmp_path, "--days", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("s-fn-Errors "))
    assert ">= 1" in row and ">= 4" in row and "2 -> 0" in row
    noise = lines.index("Noise over the last 30 days of alarm history (DescribeAlarmHistory):")
    assert lines[noise + 2].split() == ["ALARM", "KIND", "STATE", "CHANGES", "INTO", "ALARM", "MESSAGES"]
    assert lines[noise + 3].split() == ["s-fn-Errors", "metric", "4", "2", "4"]
    assert lines[noise + 4].split() == ["s-Critical", "composite", "2", "1", "1"]
    assert "1 threshold(s) to change" in result.stderr


def test_alarm_history_refused(monkeypatch, tmp_path) -> None:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    cfn, cw = session.client("cloudformation"), session.client("cloudwatch")
    stubs = {"cloudformation": (cfn, Stubber(cfn)), "cloudwatch": (cw, Stubber(cw))}
    monkeypatch.setattr(history_mod, "Aws", lambda target: _Fake(stubs))
    _queue(stubs, RuntimeError())
    spec, result = _run(tmp_path, "--format", "markdown", "--days", "1")
    assert result.exit_code == 0, result.output
    assert "- alarm history not read: DescribeAlarmHistory: AccessDenied: not allowed" in result.stdout
    assert "| s-fn-Errors | Sum Errors /300s 1of1 | >= 1 | >= 4 | 2 -> 0 |" in result.stdout


def test_noise_report_reads_summaries_when_history_data_is_absent() -> None:
    items = [{"HistoryItemType": "StateUpdate", "HistorySummary": "Alarm updated from INSUFFICIENT_DATA to OK"},
             {"HistoryItemType": "StateUpdate", "HistorySummary": "Alarm updated from OK to ALARM"}]
    (row,) = noise_report({"a": items}, {"a": {**METRIC_ALARM, "AlarmName": "a"}})
    assert (row.changes, row.to_alarm, row.messages) == (2, 1, 2)


ENV_SPEC = SPEC + """\
environments:
  dev:
    components:
      fn: {alarms: {errors: {threshold: 5}}}   # dev's own
  prod:
    notifications: {emails: [b@example.com]}
"""


def test_patch_into_an_environment_keeps_the_base() -> None:
    after = patched(ENV_SPEC, {0: {"errors": 3, "throttles": 7}, 1: {"errors": 2}}, "dev")
    assert "      fn: {alarms: {errors: {threshold: 3}, throttles: {threshold: 7}}}   # dev's own\n" in after
    assert "      other: {alarms: {errors: {threshold: 2}}}\n" in after
    assert after[:len(SPEC)] == SPEC  # the base spec, every component of it, unchanged
    prod = patched(ENV_SPEC, {2: {"errors": 4}}, "prod")
    assert prod.endswith("    notifications: {emails: [b@example.com]}\n    components: {third: {alarms: {errors: {threshold: 4}}}}\n")
    assert yaml.safe_load(prod)["environments"]["prod"]["components"] == {"third": {"alarms": {"errors": {"threshold": 4}}}}
    with pytest.raises(TypeError, match="no environment qa"):
        patched(ENV_SPEC, {0: {"errors": 1}}, "qa")


def test_env_reads_the_environments_stack(stubbed, tmp_path) -> None:
    """--env dev: the stack deployed with --env dev names its alarms s-dev-*; its thresholds go into
    environments.dev (dev overrides errors: 5; the stack's alarm says 1: the proposal is from history)."""
    _queue(stubbed, HISTORY, alarm="s-dev-fn-Errors")
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
                    "  - kind: lambda\n    name: fn\n    function_name: s-fn\n    timeout_seconds: 30\n"
                    "environments:\n  dev:\n    components:\n      fn: {alarms: {errors: {threshold: 5}}}\n")
    before = spec.read_text()
    result = CliRunner().invoke(main, ["suggest", str(spec), "--stack-name", "s-mon", "--region", "us-east-1", "--env", "dev",
                                       "--format", "patch", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == ["-      fn: {alarms: {errors: {threshold: 5}}}", "+      fn: {alarms: {errors: {threshold: 4}}}"]
    assert spec.read_text() == before  # never written without --write
    for _, stub in stubbed.values():
        stub.assert_no_pending_responses()
