"""Beyond thresholds: Model Monitor drift and quality, log metric filters and saved queries, and
"no success in N hours". The exact AWS names each produces (a wrong one never fires and never errors).

Facts: ../shared/reference/aws-monitoring-facts.md §1.7 (Model Monitor namespaces and dimensions,
as emitted), §1.2 (AWS/States), §1.6 (AWS/Sagemaker/ModelBuildingPipeline), §1.10 (AWS/Events),
§4.2 (Period x EvaluationPeriods <= 604,800 s); filter-pattern syntax: CloudWatch Logs "Filter
pattern syntax" (quote terms with non-alphanumerics, `?"a" ?"b"` for any term).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import load_spec
from mlmon_cli.spec.logs import BUILTIN_PATTERNS

from .conftest import GOLDEN, GOLDEN_SPECS, SPECS
from .template_graph import composite_children, resources_of, unreachable_alarms

CRITICAL, WARNING = {"Ref": "AlertsTopic"}, {"Ref": "WarningTopic"}


def template_of(case: str) -> dict:
    return build_template(load_spec(GOLDEN / case / "spec.yaml")).template.to_dict()


@pytest.fixture(scope="module")
def monitor() -> dict:
    return template_of("model_monitor")


@pytest.fixture(scope="module")
def overrides() -> dict:
    return template_of("model_monitor_overrides")


@pytest.fixture(scope="module")
def logs() -> dict:
    return template_of("log_patterns")


@pytest.fixture(scope="module")
def stale() -> dict:
    return template_of("staleness")


def alarm(template: dict, name: str) -> dict:
    found = [r["Properties"] for r in resources_of(template, "AWS::CloudWatch::Alarm").values() if r["Properties"]["AlarmName"] == name]
    assert len(found) == 1, name
    return found[0]


def definition(props: dict) -> tuple:
    """(namespace, metric, dimensions, statistic, comparison, threshold, period, M, N, missing data)."""
    return (props["Namespace"], props["MetricName"], props.get("Dimensions"), props.get("Statistic"), props["ComparisonOperator"],
            props["Threshold"], props["Period"], props["DatapointsToAlarm"], props["EvaluationPeriods"], props["TreatMissingData"])


def dims(**values) -> list[dict]:
    return [{"Name": k, "Value": v} for k, v in values.items()]


# --- Model Monitor -------------------------------------------------------------------------------

def test_drift_alarm_is_the_seed_definition(monitor) -> None:
    # "feature drift above 0.2 for 3 consecutive periods"
    age = alarm(monitor, "golden-scoring-FeatureDrift-age")
    assert definition(age) == (
        "aws/sagemaker/Endpoints/data-metrics", "feature_baseline_drift_age",
        dims(Endpoint="golden-scoring", MonitoringSchedule="golden-dq"), "Maximum", "GreaterThanThreshold", 0.2, 3600, 3, 3,
        "notBreaching")
    tenure = alarm(monitor, "golden-scoring-FeatureDrift-tenure")  # the `tenure: 0.3` shorthand
    assert definition(tenure)[1:] == (
        "feature_baseline_drift_tenure", dims(Endpoint="golden-scoring", MonitoringSchedule="golden-dq"), "Maximum",
        "GreaterThanThreshold", 0.3, 3600, 1, 1, "notBreaching")


def test_model_quality_alarms(monitor) -> None:
    accuracy = alarm(monitor, "golden-scoring-ModelQuality-accuracy")
    assert definition(accuracy) == (
        "aws/sagemaker/Endpoints/model-metrics", "accuracy", dims(Endpoint="golden-scoring", MonitoringSchedule="golden-mq"),
        "Minimum", "LessThanThreshold", 0.8, 3600, 1, 1, "notBreaching")
    auc = alarm(monitor, "golden-scoring-ModelQuality-auc")
    assert definition(auc)[3:] == ("Minimum", "LessThanThreshold", 0.75, 3600, 2, 2, "notBreaching")


def test_descriptions_state_the_disagreement_and_how_to_check(monitor) -> None:
    for name, namespace, block in (("FeatureDrift-age", "data-metrics", "data_quality"),
                                   ("ModelQuality-accuracy", "model-metrics", "model_quality")):
        text = alarm(monitor, f"golden-scoring-{name}")["AlarmDescription"]
        assert text.startswith("[warning] SageMaker endpoint golden-scoring: ")
        assert "[unverified] AWS sources disagree" in text
        assert f"aws cloudwatch list-metrics --namespace aws/sagemaker/Endpoints/{namespace}" in text
        assert f"{block}.namespace/dimensions" in text
        assert len(text) <= 1024 and not text.endswith("...")


def test_model_health_composite_notifies_apart_from_failure_alarms(monitor) -> None:
    """Drift stays in ALARM for hours (hourly periods): inside the warning composite it would mask
    every other warning of the endpoint, so ModelHealth notifies itself and is nobody's child."""
    children = composite_children(monitor)
    health = monitor["Resources"]["ScoringWarningModelHealthComposite"]["Properties"]
    assert health["AlarmName"] == "golden-scoring-Warning-ModelHealth"
    assert health["AlarmActions"] == [WARNING]  # the data science team
    assert children["ScoringWarningModelHealthComposite"] == [
        "ScoringFeatureDriftAgeAlarm", "ScoringFeatureDriftTenureAlarm", "ScoringModelQualityAccuracyAlarm",
        "ScoringModelQualityAucAlarm"]
    assert not any("ScoringWarningModelHealthComposite" in kids for kids in children.values())
    assert set(unreachable_alarms(monitor, CRITICAL)) & set(unreachable_alarms(monitor, WARNING)) == set()


def test_spec_overrides_namespace_dimensions_period_and_severity(overrides) -> None:
    price = alarm(overrides, "golden-ranker-FeatureDrift-price")
    assert definition(price) == (
        "/aws/sagemaker/Endpoints/data-metric", "feature_baseline_drift_price",
        dims(EndpointName="golden-ranker", ScheduleName="golden-ranker-dq"), "Maximum", "GreaterThanThreshold", 0.1, 86400, 2, 2,
        "notBreaching")
    assert "as set in the spec" in price["AlarmDescription"]
    assert "list-metrics --namespace /aws/sagemaker/Endpoints/data-metric." in price["AlarmDescription"]
    r2 = alarm(overrides, "golden-ranker-ModelQuality-r2")
    assert definition(r2)[:3] == ("aws/sagemaker/Endpoints/model-metrics", "r2",
                                  dims(Endpoint="golden-ranker", MonitoringSchedule="golden-ranker-mq", Feature="_"))
    children = composite_children(overrides)
    assert children["RankerCriticalModelHealthComposite"] == ["RankerFeatureDriftPriceAlarm", "RankerModelQualityRmseAlarm"]
    assert children["RankerWarningModelHealthComposite"] == ["RankerFeatureDriftCategoryAlarm", "RankerModelQualityR2Alarm"]
    for health in ("RankerCriticalModelHealthComposite", "RankerWarningModelHealthComposite"):
        assert not any(health in kids for kids in children.values())  # long-lived: never beside failure alarms
    # Model Monitor is per endpoint, not per variant: one alarm each, not one per variant.
    assert sum(1 for r in resources_of(overrides, "AWS::CloudWatch::Alarm").values() if "Drift" in r["Properties"]["AlarmName"]) == 2


# --- Logs ----------------------------------------------------------------------------------------

def test_builtin_filter_patterns() -> None:
    assert {name: b.pattern for name, b in BUILTIN_PATTERNS.items()} == {
        "timeout": '"Task timed out"',
        "out_of_memory": '?"Runtime.OutOfMemory" ?"signal: killed" ?"MemoryError" ?"OutOfMemoryError"',
        "cuda_oom": '?"CUDA out of memory" ?"CUDA error: out of memory" ?"OOM when allocating tensor"',
        "traceback": '"Traceback (most recent call last)"',
    }
    for b in BUILTIN_PATTERNS.values():  # every term quoted: `"..."` or `?"..."`, separated by single spaces
        assert re.fullmatch(r'(\?"[^"]+"( \?"[^"]+")+|"[^"]+")', b.pattern), b.pattern


def test_metric_filters(logs) -> None:
    filters = {r["Properties"]["FilterName"]: r["Properties"] for r in resources_of(logs, "AWS::Logs::MetricFilter").values()}
    assert set(filters) == {"golden-scorer-timeout", "golden-scorer-out_of_memory", "golden-scorer-cuda_oom",
                            "golden-scorer-traceback", "golden-scorer-bad-rows", "golden-training-cuda_oom",
                            "golden-flow-task-failed"}
    assert filters["golden-scorer-timeout"] == {
        "FilterName": "golden-scorer-timeout", "LogGroupName": "/aws/lambda/golden-scorer", "FilterPattern": '"Task timed out"',
        "MetricTransformations": [{"MetricNamespace": "mlmon/golden", "MetricName": "scorer-timeout", "MetricValue": "1"}],
    }  # no DefaultValue: the metric is sparse
    assert filters["golden-scorer-bad-rows"]["FilterPattern"] == '"rejected rows"'
    assert filters["golden-training-cuda_oom"]["LogGroupName"] == "/aws/sagemaker/TrainingJobs"
    assert filters["golden-flow-task-failed"]["LogGroupName"] == "/aws/vendedlogs/states/golden-flow"
    assert filters["golden-flow-task-failed"]["FilterPattern"] == '{ $.type = "TaskFailed" }'


def test_log_pattern_alarms(logs) -> None:
    timeout = alarm(logs, "golden-scorer-LogPattern-timeout")
    assert definition(timeout) == ("mlmon/golden", "scorer-timeout", None, "Sum", "GreaterThanOrEqualToThreshold", 1, 300, 1, 1,
                                   "notBreaching")
    assert "Dimensions" not in timeout  # a metric filter publishes none
    assert "no dimensions" in timeout["AlarmDescription"] and "must exist when the stack is deployed" in timeout["AlarmDescription"]
    shared = alarm(logs, "golden-training-LogPattern-cuda_oom")["AlarmDescription"]
    assert shared.startswith("[warning]") and "shared by other resources" in shared
    children = composite_children(logs)
    assert {"ScorerLogPatternTimeoutAlarm", "ScorerLogPatternOutOfMemoryAlarm", "ScorerLogPatternCudaOomAlarm"} <= set(
        children["ScorerCriticalComposite"])
    assert {"ScorerLogPatternTracebackAlarm", "ScorerLogPatternBadRowsAlarm"} <= set(children["ScorerWarningComposite"])
    assert "TrainingWarningComposite" not in children  # its only warning notifies itself
    assert logs["Resources"]["TrainingLogPatternCudaOomAlarm"]["Properties"]["AlarmActions"] == [WARNING]
    assert "FlowLogPatternTaskFailedAlarm" in children["FlowCriticalComposite"]
    assert set(unreachable_alarms(logs, CRITICAL)) & set(unreachable_alarms(logs, WARNING)) == set()


FAILURES = "| filter @message like /(?i)(error|exception|traceback|timed out|out of memory|killed)/\n"


def test_saved_queries(logs) -> None:
    queries = {r["Properties"]["Name"]: r["Properties"] for r in resources_of(logs, "AWS::Logs::QueryDefinition").values()}
    assert set(queries) == {
        "golden/scorer/Errors by hour", "golden/scorer/Latest failures", "golden/scorer/Slowest invocations",
        "golden/training/Errors by hour", "golden/training/Latest failures",
        "golden/flow/Errors by hour", "golden/flow/Latest failures",
    }  # none for the Glue job: log_queries: false
    assert queries["golden/scorer/Errors by hour"] == {
        "Name": "golden/scorer/Errors by hour", "LogGroupNames": ["/aws/lambda/golden-scorer"],
        "QueryString": "fields @timestamp, @message\n" + FAILURES + "| stats count(*) as errors by bin(1h) as hour\n| sort hour desc",
    }
    assert queries["golden/scorer/Latest failures"]["QueryString"] == (
        "fields @timestamp, @requestId, @logStream, @message\n" + FAILURES + "| sort @timestamp desc\n| limit 50")
    assert queries["golden/scorer/Slowest invocations"]["QueryString"] == (
        'filter @type = "REPORT"\n| fields @timestamp, @requestId, @duration, @billedDuration, @maxMemoryUsed, @memorySize\n'
        "| sort @duration desc\n| limit 20")
    # The shared training group: only the streams of jobs with the prefix.
    assert queries["golden/training/Latest failures"] == {
        "Name": "golden/training/Latest failures", "LogGroupNames": ["/aws/sagemaker/TrainingJobs"],
        "QueryString": "fields @timestamp, @logStream, @message\n| filter @logStream like /^golden-train-/\n" + FAILURES
        + "| sort @timestamp desc\n| limit 50",
    }
    assert queries["golden/flow/Errors by hour"]["LogGroupNames"] == ["/aws/vendedlogs/states/golden-flow"]


COMMAND = re.compile(r"^(fields|filter|stats|sort|limit|parse|display|dedup) ")


@pytest.mark.parametrize("spec_path", SPECS + GOLDEN_SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_saved_query_is_well_formed(spec_path: Path) -> None:
    """Commands separated by pipes, each a Logs Insights command; regexes and quotes balanced."""
    template = build_template(load_spec(spec_path)).template.to_dict()
    for res in resources_of(template, "AWS::Logs::QueryDefinition").values():
        props = res["Properties"]
        lines = props["QueryString"].split("\n")
        assert COMMAND.match(lines[0]) and all(line.startswith("| ") and COMMAND.match(line[2:]) for line in lines[1:]), props["Name"]
        assert props["QueryString"].count('"') % 2 == 0
        for line in filter(lambda line: " like " in line, lines):  # `like /regex/`: one unescaped slash each side
            assert re.fullmatch(r"/([^/\\]|\\.)+/", line.split(" like ", 1)[1]), line
        assert 1 <= len(props["Name"]) <= 255 and len(props["QueryString"]) <= 10_000
        assert all(re.fullmatch(r"[.\-_/#A-Za-z0-9]+", g) for g in props["LogGroupNames"])


def test_endpoint_and_lambda_get_queries_by_default() -> None:
    for case, names in (("lambda_basic", {"Errors by hour", "Latest failures", "Slowest invocations"}),
                        ("sagemaker_endpoint_basic", {"Errors by hour", "Latest failures"})):
        template = template_of(case)
        found = {r["Properties"]["Name"].split("/")[-1] for r in resources_of(template, "AWS::Logs::QueryDefinition").values()}
        assert found == names, case
        assert not resources_of(template, "AWS::Logs::MetricFilter")  # opt-in only


# --- No success in N hours -----------------------------------------------------------------------

def test_metric_staleness_alarms(stale) -> None:
    weekly = alarm(stale, "golden-weekly-NoRecentSuccess")
    arn = {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:golden-weekly"}
    assert definition(weekly) == ("AWS/States", "ExecutionsSucceeded", dims(StateMachineArn=arn), "Sum", "LessThanThreshold", 1,
                                  3600, 168, 168, "breaching")
    nightly = alarm(stale, "golden-nightly-NoRecentSuccess")  # the generated workflow's own machine
    assert definition(nightly)[:3] == ("AWS/States", "ExecutionsSucceeded", dims(StateMachineArn={"Ref": "NightlyStateMachine"}))
    assert definition(nightly)[6:] == (3600, 25, 25, "breaching")
    build = alarm(stale, "golden-build-NoRecentSuccess")
    assert definition(build) == ("AWS/Sagemaker/ModelBuildingPipeline", "ExecutionSucceeded", dims(PipelineName="GoldenBuild"),
                                 "Sum", "LessThanThreshold", 1, 3600, 24, 24, "breaching")


def test_event_staleness_rules_and_alarms(stale) -> None:
    rules = {r["Properties"]["Name"]: r["Properties"] for r in resources_of(stale, "AWS::Events::Rule").values()}
    expected = {
        "golden-features-Succeeded": ({"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                                       "detail": {"jobName": ["golden-features"], "state": ["SUCCEEDED"]}}, 26),
        "golden-training-Succeeded": ({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
                                       "detail": {"TrainingJobName": [{"prefix": "golden-train-"}],
                                                  "TrainingJobStatus": ["Completed"]}}, 168),
        "golden-release-Succeeded": ({"source": ["aws.codepipeline"],
                                      "detail-type": ["CodePipeline Pipeline Execution State Change"],
                                      "detail": {"pipeline": ["golden-release"], "state": ["SUCCEEDED"]}}, 72),
    }
    for name, (pattern, hours) in expected.items():
        assert rules[name]["EventPattern"] == pattern
        assert "Targets" not in rules[name] and rules[name]["State"] == "ENABLED"
        component = name.split("-")[1]
        props = alarm(stale, f"golden-{component}-NoRecentSuccess")
        assert definition(props) == ("AWS/Events", "TriggeredRules", dims(RuleName=name), "Sum", "LessThanThreshold", 1, 3600,
                                     hours, hours, "breaching")
        assert "[unverified]" in props["AlarmDescription"] and "without targets" in props["AlarmDescription"]
    children = composite_children(stale)
    for component in ("Weekly", "Features", "Training", "Build", "Release", "Nightly"):
        # never in a composite (it would mask every failure of the component while nothing succeeds)
        assert not any(f"{component}NoRecentSuccessAlarm" in kids for kids in children.values())
        props = stale["Resources"][f"{component}NoRecentSuccessAlarm"]["Properties"]
        assert props["AlarmActions"] == [CRITICAL]
        # no page at deploy: no actions while it has no history (its whole window, at most 2,880 minutes)
        hours = props["EvaluationPeriods"]
        assert props["WarmUpConfiguration"] == {"WarmUpPeriodDurationInMinutes": min(hours * 60, 2880),
                                                "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True}


@pytest.mark.parametrize("spec_path", SPECS + GOLDEN_SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_alarm_evaluates_more_than_seven_days(spec_path: Path) -> None:
    template = build_template(load_spec(spec_path)).template.to_dict()
    for res in resources_of(template, "AWS::CloudWatch::Alarm").values():
        props = res["Properties"]
        # a metric-math or anomaly alarm has its period on each query
        period = props.get("Period") or max(q["MetricStat"]["Period"] for q in props["Metrics"] if "MetricStat" in q)
        limit = 604_800 if period >= 3600 else 86_400
        assert period * props["EvaluationPeriods"] <= limit, props["AlarmName"]
        assert props["DatapointsToAlarm"] <= props["EvaluationPeriods"]
