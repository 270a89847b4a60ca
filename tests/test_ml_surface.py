"""The 2026 ML surface (issue 12): endpoint types, Bedrock, inference components, HyperPod, Model
Registry, custom metrics and anomaly bands.

Facts: ../shared/reference/aws-ml-facts-2.md (§1 Bedrock, §2.1 Bedrock events with AWS's sample
events, §3 inference components, §4 async, §5 serverless, §6 HyperPod and Model Registry, §7 anomaly
detection).
"""

from __future__ import annotations

import copy
import json

import pytest
from moto.events.models import EventPattern

from mlmon_cli.components import load_all
from mlmon_cli.components.sagemaker_endpoint import PUBLISHED, SageMakerEndpoint, published
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import load_spec

TYPES = ("realtime", "async", "serverless")


def _template(tmp_path, body: str) -> dict:
    path = tmp_path / "spec.yaml"
    path.write_text("solution: t\nnotifications: {emails: [a@example.com]}\ncomponents:\n" + body, encoding="utf-8")
    return build_template(load_spec(path, "spec.yaml")).template.to_dict()


def _alarms(template: dict) -> dict[str, dict]:
    return {r["Properties"]["AlarmName"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


# --------------------------------------------------------------------------- endpoint types
def _all_alarms_on(kind) -> str:
    return "{" + ", ".join(f"{a.key}: {{enabled: true}}" for a in kind.alarms) + "}"


@pytest.mark.parametrize("endpoint_type", TYPES)
def test_every_endpoint_alarm_is_on_a_metric_aws_publishes_for_the_type(tmp_path, endpoint_type) -> None:
    """Every alarm switched on; each metric alarm must be in PUBLISHED for the type, with its namespace
    and exact dimension set, and every table alarm whose metric is published must be there."""
    template = _template(tmp_path, f"  - {{kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1, endpoint_type: {endpoint_type}, "
                                   f"variants: [A, B], alarms: {_all_alarms_on(SageMakerEndpoint)}}}\n")
    allowed = published(endpoint_type)
    seen = set()
    for name, props in _alarms(template).items():
        if props.get("Namespace") in ("AWS/Events", "AWS/SNS"):
            continue
        metric = props["MetricName"]
        assert metric in allowed, f"{name}: AWS publishes no {metric} for {endpoint_type} endpoints"
        fact = PUBLISHED[metric]
        assert props["Namespace"] == fact.namespace, name
        assert tuple(d["Name"] for d in props["Dimensions"]) == fact.dimensions, name
        seen.add(metric)
    expected = {a.metric.name for a in SageMakerEndpoint.alarms if not a.is_event and a.metric.name in allowed}
    assert seen == expected


def test_published_table_matches_the_facts_file() -> None:
    """Spot checks of the one table against aws-ml-facts-2.md §4 and §5 (the exhaustive AWS lists)."""
    assert not {"Invocations", "InvocationsPerInstance", "OverheadLatency", "InvocationModelErrors"} & set(published("async"))
    assert not {"CPUUtilization", "DiskUtilization", "GPUUtilization", "GPUMemoryUtilization", "InvocationsPerInstance",
                "InvocationModelErrors"} & set(published("serverless"))
    assert {"ApproximateBacklogSize", "ApproximateAgeOfOldestRequest", "HasBacklogWithoutCapacity"} <= set(published("async"))
    assert all(PUBLISHED[m].dimensions == ("EndpointName",) for m in
               ("ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "ApproximateAgeOfOldestRequest",
                "HasBacklogWithoutCapacity"))
    assert "InvocationsProcesssed" in PUBLISHED  # AWS's spelling, triple s
    assert {"ModelSetupTime", "ServerlessConcurrentExecutionsUtilization", "MemoryUtilization"} <= set(published("serverless"))


def test_async_backlog_alarms_are_per_endpoint_not_per_variant(tmp_path) -> None:
    alarms = _alarms(_template(tmp_path, "  - {kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1, endpoint_type: async, "
                                         "variants: [A, B]}\n"))
    backlog = {n: p for n, p in alarms.items() if p.get("MetricName") == "ApproximateAgeOfOldestRequest"}
    assert list(backlog) == ["t-ep-BacklogAge"]
    assert backlog["t-ep-BacklogAge"]["Dimensions"] == [{"Name": "EndpointName", "Value": "ep-1"}]
    assert "t-ep-A-ModelErrors" not in alarms and "t-ep-A-OverheadLatencyP99" not in alarms
    assert alarms["t-ep-A-ExpiredRequests"]["Threshold"] == 1


def test_async_inference_flag_still_means_async(tmp_path) -> None:
    old = _alarms(_template(tmp_path, "  - {kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1, async_inference: true}\n"))
    new = _alarms(_template(tmp_path, "  - {kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1, endpoint_type: async}\n"))
    assert old.keys() == new.keys()


# --------------------------------------------------------------------------- Bedrock model
def test_bedrock_model_alarms(tmp_path) -> None:
    alarms = _alarms(_template(tmp_path, """\
  - kind: bedrock_model
    name: claude
    model_id: us.anthropic.claude-3-5-haiku-20241022-v1:0
    ttft_p90_ms: 1500
    tpm_quota: 200000
    guardrail_arn: arn:aws:bedrock:us-east-1:123456789012:guardrail/g1
    guardrail_version: DRAFT
    agent_alias_arn: arn:aws:bedrock:us-east-1:123456789012:agent-alias/A1/B1
"""))
    model = [{"Name": "ModelId", "Value": "us.anthropic.claude-3-5-haiku-20241022-v1:0"}]
    ttft = alarms["t-claude-TimeToFirstTokenP90"]
    assert (ttft["Namespace"], ttft["ExtendedStatistic"], ttft["Threshold"], ttft["Dimensions"]) == (
        "AWS/Bedrock", "p90", 1500, model)
    quota = alarms["t-claude-TPMQuotaUsage"]
    assert (quota["MetricName"], quota["Statistic"], quota["Period"], quota["Threshold"]) == (
        "EstimatedTPMQuotaUsage", "Sum", 60, 160000)  # 0.8 x 200,000 tokens per minute
    assert "Do not use" not in quota["AlarmDescription"] and "sole indicator" in quota["AlarmDescription"]
    assert "[unverified]" in quota["AlarmDescription"]
    rate = alarms["t-claude-ClientErrorRate"]
    assert "MetricName" not in rate and "Period" not in rate
    queries = {q["Id"]: q for q in rate["Metrics"]}
    assert queries["expr"]["Expression"] == "e / MAX([e, i])" and queries["expr"]["ReturnData"] is True
    assert queries["e"]["MetricStat"]["Metric"]["MetricName"] == "InvocationClientErrors"
    assert queries["i"]["MetricStat"]["Metric"]["MetricName"] == "Invocations"
    assert all(queries[k]["ReturnData"] is False and queries[k]["MetricStat"]["Metric"]["Dimensions"] == model for k in "ei")
    guard = alarms["t-claude-GuardrailServerErrors"]
    assert (guard["Namespace"], guard["Dimensions"]) == ("AWS/Bedrock/Guardrails", [
        {"Name": "GuardrailArn", "Value": "arn:aws:bedrock:us-east-1:123456789012:guardrail/g1"},
        {"Name": "GuardrailVersion", "Value": "DRAFT"}])
    agent = alarms["t-claude-AgentServerErrors"]
    assert [d["Name"] for d in agent["Dimensions"]] == ["Operation", "AgentAliasArn", "ModelId"]
    assert "cloudwatch:PutMetricData" in agent["AlarmDescription"]
    assert "t-claude-LatencyP90" not in alarms  # no latency objective given
    assert "t-claude-ServerErrorRate" not in alarms and "t-claude-LogDeliveryFailures" not in alarms  # off by default


def test_bedrock_log_delivery_alarm_has_no_dimensions(tmp_path) -> None:
    alarms = _alarms(_template(tmp_path, "  - {kind: bedrock_model, name: m, model_id: amazon.nova-lite-v1:0, "
                                         "alarms: {log_delivery_failures: true}}\n"))
    assert "Dimensions" not in alarms["t-m-LogDeliveryFailures"]


# --------------------------------------------------------------------------- events vs AWS samples
# AWS's sample events, from aws-ml-facts-2.md §2.1 [BR-EB] and §6.1 [SM-EB] (abridged as there).
CUSTOMIZATION_FAILED = {
    "version": "0", "id": "UUID", "detail-type": "Model Customization Job State Change", "source": "aws.bedrock",
    "account": "123456789012", "time": "2023-08-11T12:34:56Z", "region": "us-east-1",
    "resources": ["arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abcdefghwxyz"],
    "detail": {"version": "0.0", "jobName": "abcd-wxyz", "outputModelName": "dummy-output-model-name",
               "jobStatus": "Failed", "failureMessage": "Failure Message here.", "creationTime": "2023-08-11T10:11:12Z"},
}
BATCH_COMPLETED = {
    "version": "0", "id": "a1b2c3d4", "detail-type": "Batch Inference Job State Change", "source": "aws.bedrock",
    "time": "Wed Aug 28 22:58:30 UTC 2024", "region": "us-east-1",
    "resources": ["arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghwxyz"],
    "detail": {"version": "0.0", "accountId": "123456789012", "batchJobName": "dummy-batch-job-name",
               "batchModelId": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0",
               "status": "Completed", "failureMessage": "", "creationTime": "Aug 28, 2024, 10:47:53 PM"},
}
NODE_UNHEALTHY = {
    "source": "aws.sagemaker", "detail-type": "SageMaker HyperPod Cluster Node Health Event",
    "detail": {"ClusterName": "sample-cluster", "InstanceId": "i-12345678abcdefghi", "HealthSummary": {
        "HealthStatus": "Unhealthy", "HealthStatusReason": "HyperPod Health Monitoring Agent (HMA) has detected fault type "
        "NvidiaErrorTerminate", "RepairAction": "None", "Recommendation": "Please Replace the Faulty Node."}},
}


def _with(event: dict, **detail) -> dict:
    e = copy.deepcopy(event)
    e["detail"].update(detail)
    return e


def _rules(template: dict) -> dict[str, dict]:
    return {r["Properties"]["Name"]: r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"}


def _matches(rule: dict, event: dict) -> bool:
    return EventPattern.load(json.dumps(rule["EventPattern"])).matches_event(event)


@pytest.fixture(scope="module")
def event_rules(tmp_path_factory) -> dict[str, dict]:
    return _rules(_template(tmp_path_factory.mktemp("ev"), """\
  - {kind: bedrock_job, name: ft, job_type: model_customization, job_name_prefix: abcd-, expect_success_within_hours: 24}
  - {kind: bedrock_job, name: batch, job_type: batch_inference, job_name_prefix: dummy-batch-}
  - {kind: sagemaker_hyperpod, name: pod, cluster_name: sample-cluster, continuous_provisioning: true}
  - {kind: sagemaker_model_registry, name: reg, model_package_group_name: churn}
"""))


def test_customization_rule_matches_aws_failed_sample_only(event_rules) -> None:
    rule = event_rules["t-ft-CustomizationJobFailed"]
    assert _matches(rule, CUSTOMIZATION_FAILED)
    assert _matches(rule, _with(CUSTOMIZATION_FAILED, jobStatus="Stopped"))
    for status in ("Completed", "InProgress", "Stopping"):
        assert not _matches(rule, _with(CUSTOMIZATION_FAILED, jobStatus=status))
    assert not _matches(rule, _with(CUSTOMIZATION_FAILED, jobName="other-job"))
    # the batch event's field name would not match: customization uses jobStatus, not status
    assert not _matches(rule, _with(CUSTOMIZATION_FAILED, jobStatus=None, status="Failed"))
    assert _matches(event_rules["t-ft-Succeeded"], _with(CUSTOMIZATION_FAILED, jobStatus="Completed"))
    assert not _matches(event_rules["t-ft-Succeeded"], CUSTOMIZATION_FAILED)


def test_batch_rule_does_not_match_aws_completed_sample(event_rules) -> None:
    rule = event_rules["t-batch-BatchJobFailed"]
    assert not _matches(rule, BATCH_COMPLETED)
    for status in ("Failed", "PartiallyCompleted", "Expired", "Stopped"):
        assert _matches(rule, _with(BATCH_COMPLETED, status=status)), status
    for status in ("Submitted", "InProgress", "Validating", "Scheduled", "Stopping"):
        assert not _matches(rule, _with(BATCH_COMPLETED, status=status)), status
    assert not _matches(rule, _with(BATCH_COMPLETED, status="Completed", jobStatus="Failed"))


def test_hyperpod_rules_against_aws_samples(event_rules) -> None:
    node = event_rules["t-pod-NodeUnhealthy"]
    assert _matches(node, NODE_UNHEALTHY)
    healthy = copy.deepcopy(NODE_UNHEALTHY)
    healthy["detail"]["HealthSummary"]["HealthStatus"] = "Healthy"
    assert not _matches(node, healthy)
    # sagemaker-hyperpod-cluster-events-reference: EventDetails.ClusterName is required (facts-3 §0)
    error_event = {"source": "aws.sagemaker", "detail-type": "SageMaker HyperPod Cluster Event",
                   "detail": {"EventDetails": {"EventLevel": "Error", "ClusterName": "t-pod-cluster",
                                               "Description": "Failed to provision instance group workers"}}}
    rule = event_rules["t-pod-ClusterErrorEvent"]
    assert rule["EventPattern"]["detail"]["EventDetails"]["ClusterName"] == [_cluster_name(rule)]
    assert _matches(rule, _with_cluster(error_event, _cluster_name(rule)))
    assert not _matches(rule, _with_cluster(error_event, "another-cluster"))  # another cluster in the account
    message = rule["Targets"][0]["InputTransformer"]
    assert message["InputPathsMap"]["cluster"] == "$.detail.EventDetails.ClusterName"
    assert message["InputPathsMap"]["description"] == "$.detail.EventDetails.Description"
    assert "<cluster>" in message["InputTemplate"] and "<description>" in message["InputTemplate"]
    error_event = _with_cluster(error_event, _cluster_name(rule))
    info = copy.deepcopy(error_event)
    info["detail"]["EventDetails"]["EventLevel"] = "Info"
    assert not _matches(event_rules["t-pod-ClusterErrorEvent"], info)
    state = {"source": "aws.sagemaker", "detail-type": "SageMaker HyperPod Cluster State Change",
             "detail": {"ClusterName": "sample-cluster", "ClusterStatus": "Failed"}}
    assert _matches(event_rules["t-pod-ClusterFailed"], state)
    assert not _matches(event_rules["t-pod-ClusterFailed"], _with(state, ClusterStatus="InService"))


def _cluster_name(rule: dict) -> str:
    return rule["EventPattern"]["detail"]["EventDetails"]["ClusterName"][0]


def _with_cluster(event: dict, cluster: str) -> dict:
    changed = copy.deepcopy(event)
    changed["detail"]["EventDetails"]["ClusterName"] = cluster
    return changed


def test_model_registry_approval_is_a_notification_not_an_alarm(event_rules, tmp_path) -> None:
    approval = event_rules["t-reg-ApprovalChanged"]
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
             "detail": {"ModelPackageGroupName": "churn", "ModelPackageVersion": 3, "ModelApprovalStatus": "Approved",
                        "ModelPackageStatus": "Completed"}}
    assert _matches(approval, event)
    assert not _matches(approval, _with(event, ModelApprovalStatus="PendingManualApproval"))
    assert _matches(event_rules["t-reg-ModelPackageFailed"], _with(event, ModelPackageStatus="Failed"))
    assert not _matches(event_rules["t-reg-ModelPackageFailed"], event)
    template = _template(tmp_path, "  - {kind: sagemaker_model_registry, name: reg, model_package_group_name: churn}\n")
    watched = {d["Value"] for a in _alarms(template).values() for d in a.get("Dimensions", []) if d["Name"] == "RuleName"}
    assert "t-reg-ApprovalChanged" not in watched  # informational: nothing can go into ALARM for it
    assert approval["Targets"][0]["Id"] == "AlertTopic"


# --------------------------------------------------------------------------- custom and anomaly alarms
def test_custom_anomaly_alarm_shape(tmp_path) -> None:
    template = _template(tmp_path, """\
  - kind: bedrock_model
    name: m
    model_id: amazon.nova-lite-v1:0
    custom_alarms:
      - name: tokens
        namespace: AWS/Bedrock
        metric: InputTokenCount
        dimensions: {ModelId: amazon.nova-lite-v1:0}
        statistic: Sum
        period: 3600
        severity: warning
        anomaly: {band: 3, excluded_time_ranges: [{start: 2026-11-02T00:00:00, end: "2026-11-03T06:00:00"}]}
""")
    alarm = _alarms(template)["t-m-Custom-tokens"]
    assert "Threshold" not in alarm and alarm["ThresholdMetricId"] == "ad1"
    assert alarm["ComparisonOperator"] == "GreaterThanUpperThreshold"
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["ad1"]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"
    assert "ReturnData" not in queries["m1"] and "ReturnData" not in queries["ad1"]  # both default true (aws-cdk#19286)
    detector = template["Resources"]["MCustomTokensDetector"]["Properties"]
    stat = queries["m1"]["MetricStat"]
    assert (detector["Namespace"], detector["MetricName"], detector["Stat"], detector["Dimensions"]) == (
        stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"], stat["Metric"]["Dimensions"])
    assert detector["Configuration"]["ExcludedTimeRanges"] == [{"StartTime": "2026-11-02T00:00:00", "EndTime": "2026-11-03T06:00:00"}]
    # hourly: a long-lived condition (core/rollup.py), so it notifies itself instead of holding the warning composite
    assert alarm["AlarmActions"] == template["Resources"]["MWarningComposite"]["Properties"]["AlarmActions"]
    assert "${MCustomTokensAlarm.Arn}" not in template["Resources"]["MWarningComposite"]["Properties"]["AlarmRule"]["Fn::Sub"]


def test_custom_alarm_on_any_kind_rolls_up_by_severity(tmp_path) -> None:
    template = _template(tmp_path, """\
  - kind: codebuild
    name: build
    project_name: bb
    custom_alarms:
      - {name: drift, namespace: mlmon/quality, metric: feature_drift_psi, dimensions: {Model: churn, Feature: tenure},
         statistic: Maximum, threshold: 0.2, unit: ratio, period: 3600, severity: warning}
""")
    alarm = _alarms(template)["t-build-Custom-drift"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Threshold"], alarm["Period"]) == (
        "mlmon/quality", "feature_drift_psi", "Maximum", 0.2, 3600)
    assert alarm["Dimensions"] == [{"Name": "Model", "Value": "churn"}, {"Name": "Feature", "Value": "tenure"}]
    assert "aws cloudwatch list-metrics --namespace mlmon/quality --metric-name feature_drift_psi" in alarm["AlarmDescription"]
    # the component's only warning alarm (and hourly: long-lived): it notifies itself, no composite
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}] and "BuildWarningComposite" not in template["Resources"]


def test_every_new_kind_declares_its_cloudformation_bindings() -> None:
    registry = load_all()
    for kind in ("bedrock_model", "sagemaker_inference_component", "sagemaker_hyperpod", "sagemaker_model_registry",
                 "sagemaker_endpoint"):
        assert registry[kind].cfn_types() and all(t.startswith("AWS::") for t in registry[kind].cfn_types())


def test_serverless_memory_alarm_is_its_own_shape(tmp_path) -> None:
    sls = _alarms(_template(tmp_path, "  - {kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1, endpoint_type: serverless}\n"))
    memory = sls["t-ep-AllTraffic-MemoryUtilization"]
    assert (memory["Statistic"], memory["Period"], memory["EvaluationPeriods"]) == ("Maximum", 60, 5)
    assert "[unverified] namespace /aws/sagemaker/Endpoints" in memory["AlarmDescription"]
    assert not {"t-ep-AllTraffic-CPUUtilization", "t-ep-AllTraffic-DiskUtilization", "t-ep-AllTraffic-ModelErrors"} & set(sls)
    realtime = _alarms(_template(tmp_path, "  - {kind: sagemaker_endpoint, name: ep, endpoint_name: ep-1}\n"))
    assert realtime["t-ep-AllTraffic-MemoryUtilization"]["Statistic"] == "Average"


def test_plan_shows_informational_rules_and_multi_query_alarms() -> None:
    from pathlib import Path

    from mlmon_cli.plan import build_plan

    spec = Path(__file__).parent.parent / "specs" / "genai-platform.yaml"
    rows = {r.name: r for r in build_plan(build_template(load_spec(spec))).rows}
    approval = rows["genai-platform-registry-ApprovalChanged"]
    assert (approval.type, approval.component, approval.severity) == ("rule", "registry", "info")
    band = rows["genai-platform-assistant-Custom-input-tokens"]
    assert "ANOMALY_DETECTION_BAND(m1, 3)" in band.watches and band.threshold.startswith("above the band, 2 of 2 x 3600 s")
    rate = rows["genai-platform-assistant-ServerErrorRate"]
    assert "e / MAX([e, i])" in rate.watches and rate.threshold.startswith("> 0.02")
