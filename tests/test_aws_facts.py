"""The exact AWS names a spec with all six kinds produces: a wrong one is an alarm that never fires.

Expected values come from ../shared/reference/aws-monitoring-facts.md (sections 1 and 2); the third
audit's (aws-ml-facts-3.md §0) below, each test naming its AWS source.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import load_spec

from .conftest import ROOT
from .template_graph import composite_children, resources_of, unreachable_alarms

TOPIC = {"Ref": "AlertsTopic"}  # churn-model has one route: warnings go to the same topic
HISTORY = {"Ref": "AlarmHistoryTopic"}


@pytest.fixture(scope="module")
def template() -> dict:
    spec = load_spec(ROOT / "specs" / "churn-model.yaml")
    assert {c.kind for c in spec.components} == {
        "lambda", "step_functions", "glue_job", "sagemaker_training", "sagemaker_endpoint", "codepipeline"}
    return build_template(spec).template.to_dict()


def alarm(template: dict, name: str) -> dict:
    props = [r["Properties"] for r in resources_of(template, "AWS::CloudWatch::Alarm").values() if r["Properties"]["AlarmName"] == name]
    assert len(props) == 1, name
    return props[0]


def dims(props: dict) -> dict:
    return {d["Name"]: d["Value"] for d in props["Dimensions"]}


def test_lambda_alarms(template) -> None:
    errors = alarm(template, "churn-preprocess-Errors")
    # The seed's example: the sum of errors reaches 1 within 10 minutes.
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert (errors["Threshold"], errors["ComparisonOperator"], errors["Period"]) == (1, "GreaterThanOrEqualToThreshold", 600)
    assert (errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (1, 1)
    assert dims(errors) == {"FunctionName": "churn-preprocess"}
    throttles = alarm(template, "churn-preprocess-Throttles")
    assert (throttles["MetricName"], throttles["Statistic"], throttles["Period"]) == ("Throttles", "Sum", 60)
    duration = alarm(template, "churn-preprocess-DurationP90")
    assert duration["ExtendedStatistic"] == "p90" and "Statistic" not in duration
    assert duration["Threshold"] == 96000  # 80 % of the 120 s timeout, in ms
    assert dims(duration) == {"FunctionName": "churn-preprocess"}


def test_step_functions_alarms(template) -> None:
    arn = {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:churn-weekly-retraining"}
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "ExecutionThrottled"):
        props = alarm(template, f"churn-retraining-{metric}")
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/States", metric, "Sum")
        assert dims(props) == {"StateMachineArn": arn}
        assert props["TreatMissingData"] == "notBreaching"


def test_glue_alarms_use_all_three_dimensions_and_the_state_change_rule(template) -> None:
    failed = alarm(template, "churn-features-FailedTasks")
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == ("Glue", "glue.driver.aggregate.numFailedTasks", "Sum")
    assert dims(failed) == {"JobName": "churn-feature-engineering", "JobRunId": "ALL", "Type": "count"}
    heap = alarm(template, "churn-features-HeapUsage")
    assert (heap["MetricName"], heap["Threshold"]) == ("glue.ALL.jvm.heap.usage", 0.9)
    assert dims(heap) == {"JobName": "churn-feature-engineering", "JobRunId": "ALL", "Type": "gauge"}
    rule = rule_named(template, "churn-features-JobRunFailed")
    assert rule["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": ["churn-feature-engineering"], "state": ["FAILED", "TIMEOUT"]},
    }
    triggered = alarm(template, "churn-features-JobRunFailed")
    assert (triggered["Namespace"], triggered["MetricName"], triggered["Statistic"]) == ("AWS/Events", "TriggeredRules", "Sum")
    assert dims(triggered) == {"RuleName": "churn-features-JobRunFailed"}


def test_training_failures_come_from_eventbridge(template) -> None:
    rule = rule_named(template, "churn-training-TrainingJobFailed")
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobName": [{"prefix": "churn-train-"}], "TrainingJobStatus": ["Failed", "Stopped"]},
    }
    assert dims(alarm(template, "churn-training-TrainingJobFailed")) == {"RuleName": "churn-training-TrainingJobFailed"}


def test_endpoint_alarms_per_variant(template) -> None:
    expected = {
        "Invocation5XXRate": ("AWS/SageMaker", "Invocation5XXErrors", "Average", 0.01),
        "Invocation4XXRate": ("AWS/SageMaker", "Invocation4XXErrors", "Average", 0.05),
        "ModelErrors": ("AWS/SageMaker", "InvocationModelErrors", "Sum", 1),
        "ModelLatencyP99": ("AWS/SageMaker", "ModelLatency", "p99", 250000),  # 250 ms in µs
        "OverheadLatencyP99": ("AWS/SageMaker", "OverheadLatency", "p99", 200000),
        "CPUUtilization": ("/aws/sagemaker/Endpoints", "CPUUtilization", "Average", 90),
        "MemoryUtilization": ("/aws/sagemaker/Endpoints", "MemoryUtilization", "Average", 90),
        "DiskUtilization": ("/aws/sagemaker/Endpoints", "DiskUtilization", "Maximum", 90),
    }
    for suffix, (namespace, metric, stat, threshold) in expected.items():
        props = alarm(template, f"churn-scoring-AllTraffic-{suffix}")
        assert (props["Namespace"], props["MetricName"], props["Threshold"]) == (namespace, metric, threshold)
        assert props.get("Statistic", props.get("ExtendedStatistic")) == stat
        assert dims(props) == {"EndpointName": "churn-scoring", "VariantName": "AllTraffic"}
    assert rule_named(template, "churn-scoring-EndpointFailed")["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {"EndpointName": ["churn-scoring"], "EndpointStatus": ["FAILED"]},
    }


def test_codepipeline_alarms(template) -> None:
    props = alarm(template, "churn-release-FailedExecutions")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/CodePipeline", "FailedPipelineExecutions", "Sum")
    assert dims(props) == {"PipelineName": "churn-release"}
    assert "[unverified]" in props["AlarmDescription"]
    assert rule_named(template, "churn-release-PipelineFailed")["EventPattern"] == {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": ["churn-release"], "state": ["FAILED"]},
    }


def test_no_units_and_no_insufficient_data_actions(template) -> None:
    for res in resources_of(template, "AWS::CloudWatch::Alarm").values():
        props = res["Properties"]
        assert "Unit" not in props
        assert "InsufficientDataActions" not in props
        if props["MetricName"] in ("Errors", "TriggeredRules", "ExecutionsFailed", "InvocationModelErrors", "FailedPipelineExecutions"):
            assert props["TreatMissingData"] == "notBreaching"
        assert len(props["AlarmDescription"]) <= 1024
        assert "First step:" in props["AlarmDescription"]


def test_every_rule_has_a_delivery_failure_alarm(template) -> None:
    for rule in resources_of(template, "AWS::Events::Rule").values():
        name = rule["Properties"]["Name"]
        failed = alarm(template, f"{name}Delivery")
        assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == ("AWS/Events", "FailedInvocations", "Sum")
        assert dims(failed) == {"RuleName": name} and failed["TreatMissingData"] == "notBreaching"


def rule_named(template: dict, name: str) -> dict:
    rules = [r["Properties"] for r in resources_of(template, "AWS::Events::Rule").values() if r["Properties"]["Name"] == name]
    assert len(rules) == 1, name
    return rules[0]


def test_rules_send_readable_messages_to_the_topic(template) -> None:
    for res in resources_of(template, "AWS::Events::Rule").values():
        (target,) = res["Properties"]["Targets"]
        assert target["Arn"] == TOPIC and "RoleArn" not in target
        transformer = target["InputTransformer"]
        placeholders = set(re.findall(r"<([A-Za-z0-9_.-]+)>", transformer["InputTemplate"]))
        assert placeholders and placeholders <= set(transformer["InputPathsMap"])
        # plain text with real line breaks (not a quoted JSON string), naming the solution and the component
        text = transformer["InputTemplate"]
        assert text.startswith("churn: ") and "\n" in text and "\\n" not in text and not text.endswith('"')


def test_composite_hierarchy(template) -> None:
    """The rollup rules (core/rollup.py): per component and severity, 2+ failure alarms share one
    notifying composite, a single one notifies itself; long-lived alarms (missing data breaching,
    hourly periods) notify themselves and are nobody's child; no solution composite (nobody would
    be notified by it); every metric alarm has an action (quiet ones: the alarm-history topic)."""
    children = composite_children(template)
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    props = {name: res["Properties"] for name, res in alarms.items()}
    severity = {name: p["AlarmDescription"].split("]")[0].strip("[") for name, p in props.items()}
    long_lived = {n for n, p in props.items() if p["TreatMissingData"] == "breaching" or p["Period"] >= 3600}
    components = {"Preprocess", "Features", "Training", "Retraining", "Scoring", "Release"}
    expected = {}
    for c in components:
        for s in ("critical", "warning"):
            failures = sorted(n for n in alarms if n.startswith(c) and severity[n] == s and n not in long_lived)
            if len(failures) >= 2:
                expected[f"{c}{s.capitalize()}Composite"] = failures
            for n in failures if len(failures) == 1 else []:
                assert props[n]["AlarmActions"] == [TOPIC], n
    assert {k: sorted(v) for k, v in children.items()} == expected
    for composite in expected:
        assert template["Resources"][composite]["Properties"]["AlarmActions"] == [TOPIC]
    for n in long_lived:
        assert not any(n in kids for kids in children.values())
        assert props[n]["AlarmActions"] == [TOPIC]
    in_composite = {n for kids in children.values() for n in kids}
    for n in in_composite:
        assert props[n]["AlarmActions"] == [HISTORY], n  # CT.CLOUDWATCH.PR.1 without a second page
    assert all(p["AlarmActions"] for p in props.values())
    assert not any(name.startswith("Solution") for name in resources_of(template, "AWS::CloudWatch::CompositeAlarm"))
    assert unreachable_alarms(template, TOPIC) == []


def notifies_topic(template: dict, name: str) -> bool:
    return template["Resources"][name]["Properties"].get("AlarmActions") == [TOPIC]


def test_notification_path(template) -> None:
    key = template["Resources"]["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = {s["Principal"].get("Service"): s for s in key}
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        assert sorted(services[service]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert "Condition" not in services["events.amazonaws.com"]  # unsupported for EventBridge -> encrypted SNS
    topic = template["Resources"]["AlertsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    policies = resources_of(template, "AWS::SNS::TopicPolicy")
    assert len(policies) == 1
    statements = {s["Sid"]: s for s in next(iter(policies.values()))["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["CloudWatchAlarmsPublish"]["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert statements["EventBridgeRulesPublish"]["Principal"] == {"Service": "events.amazonaws.com"}
    subscriptions = sorted(r["Properties"]["Endpoint"] for r in resources_of(template, "AWS::SNS::Subscription").values())
    assert subscriptions == ["data-science@example.com", "ml-oncall@example.com"]
    assert set(template["Outputs"]) >= {"AlertTopicArn", "ConfirmSubscriptions"}
    grants = next(s for s in key if s.get("Sid") == "GrantsOnlyForAWSResources")  # CT.KMS.PR.3
    assert grants == {"Sid": "GrantsOnlyForAWSResources", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant",
                      "Resource": "*", "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false",
                                                                      "aws:PrincipalIsAWSService": "false"}}}
    assert statements["CloudWatchAlarmsPublish"]["Resource"] == [TOPIC, HISTORY]
    failed = alarm(template, "churn-alert-path-NotificationsFailed")
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == ("AWS/SNS", "NumberOfNotificationsFailed", "Sum")
    assert dims(failed) == {"TopicName": {"Fn::GetAtt": ["AlertsTopic", "TopicName"]}}
    # one failed delivery (an email counts once, when SNS stops retrying) must fire it (aws-ml-facts-2.md §10.2)
    assert (failed["Period"], failed["EvaluationPeriods"], failed["DatapointsToAlarm"], failed["Threshold"],
            failed["ComparisonOperator"], failed["TreatMissingData"]) == (60, 1, 1, 1, "GreaterThanOrEqualToThreshold", "notBreaching")
    assert "confirm" in template["Description"]


# --------------------------------------------------------------------------------------------------
# Third audit (../shared/reference/aws-ml-facts-3.md §0): what `init` writes from a template reaches
# the output. One synthetic template holds each case; the source of each fact is named beside it.
FACTS3_APP = ROOT / "tests" / "data" / "app" / "facts3.yaml"


@pytest.fixture(scope="module")
def discovered(tmp_path_factory) -> dict:
    from mlmon_cli.discover import spec_from_template
    from mlmon_cli.spec.app_template import load_app_template

    folder = tmp_path_factory.mktemp("facts3")
    (folder / "app.yaml").write_text(FACTS3_APP.read_text())
    found = spec_from_template(load_app_template(folder / "app.yaml", "app.yaml"), "app.yaml", "facts", "app.yaml")
    (folder / "spec.yaml").write_text(found.text)
    return build_template(load_spec(folder / "spec.yaml")).template.to_dict()


def _text(value: object) -> str:
    """An alarm description: a string, or the text of its Fn::Sub (it names a template resource)."""
    return value["Fn::Sub"] if isinstance(value, dict) else str(value)


def _alarms_of(template: dict, component: str) -> dict[str, dict]:
    """A component's alarms by name; in a merged output a name starts with the stack's name (an Fn::Sub)."""
    names = {_text(p["AlarmName"]).replace("${AWS::StackName}-", "facts-", 1): p
             for p in (r["Properties"] for r in resources_of(template, "AWS::CloudWatch::Alarm").values())}
    return {name: p for name, p in names.items() if name.startswith(f"facts-{component}-")}


def test_serverless_endpoint_gets_only_what_aws_publishes_for_it(discovered) -> None:
    # serverless-endpoints-monitoring: "any metric not listed below is not published"; InvocationModelErrors is not
    # listed, ModelSetupTime, MemoryUtilization and ServerlessConcurrentExecutionsUtilization are.
    metrics = {p["MetricName"] for p in _alarms_of(discovered, "sls-endpoint").values()}
    assert {"ModelSetupTime", "MemoryUtilization", "ServerlessConcurrentExecutionsUtilization"} <= metrics
    assert not metrics & {"InvocationModelErrors", "CPUUtilization", "DiskUtilization", "GPUUtilization"}


def test_async_endpoint_is_written_as_async(discovered) -> None:
    # async-inference-monitor: backlog metrics with EndpointName only; no OverheadLatency.
    alarms = _alarms_of(discovered, "async-endpoint")
    backlog = alarms["facts-async-endpoint-BacklogSize"]
    assert (backlog["MetricName"], dims(backlog)) == ("ApproximateBacklogSize", {"EndpointName": {"Fn::GetAtt": [
        "AsyncEndpoint", "EndpointName"]}})
    assert "OverheadLatency" not in {p["MetricName"] for p in alarms.values()}
    assert alarms["facts-async-endpoint-AllTraffic-CPUUtilization"]["Threshold"] == 90 * 48  # ml.m5.12xlarge: 48 vCPUs


def test_gpu_endpoint_thresholds_scale_to_its_instance_type(discovered) -> None:
    # monitoring-cloudwatch: CPUUtilization / GPUUtilization are sums over vCPUs / GPUs (0-100 % each);
    # ml.g5.2xlarge = 8 vCPUs, 1 GPU (SageMaker AI pricing, instance details), here a parameter's default.
    alarms = _alarms_of(discovered, "llm-endpoint")
    cpu = alarms["facts-llm-endpoint-AllTraffic-CPUUtilization"]
    assert cpu["Threshold"] == 720
    assert "per vCPU x 8 vCPUs of ml.g5.2xlarge" in _text(cpu["AlarmDescription"])
    gpu = alarms["facts-llm-endpoint-AllTraffic-GPUUtilization"]  # on by default for a GPU instance type
    assert (gpu["Namespace"], gpu["Threshold"]) == ("/aws/sagemaker/Endpoints", 90)


def test_application_inference_profile_alarms_carry_its_id(discovered) -> None:
    # facts-3 §0: runtime metrics of an application inference profile are published under ModelId = the
    # profile ID (cloud-custodian's recorded live test); InferenceProfileId is a GetAtt attribute (CFN schema).
    alarms = _alarms_of(discovered, "profile")
    assert alarms
    for props in alarms.values():
        values = [d["Value"] for d in props.get("Dimensions", [])] + [
            d["Value"] for q in props.get("Metrics", []) for d in q.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])]
        assert values and all(v == {"Fn::GetAtt": ["Profile", "InferenceProfileId"]} for v in values), props["AlarmName"]


def test_hyperpod_cluster_event_rule_filters_on_its_cluster(discovered) -> None:
    # sagemaker-hyperpod-cluster-events-reference: detail.EventDetails.ClusterName is required.
    # In a merged output rule names are left to CloudFormation (one template, many stacks): found by logical ID.
    [rule] = [r["Properties"] for k, r in resources_of(discovered, "AWS::Events::Rule").items() if k.startswith("PodClusterErrorEvent")]
    detail = rule["EventPattern"]["detail"]
    assert detail == {"EventDetails": {"ClusterName": ["pretrain"], "EventLevel": ["Error"]}}


def test_pipeline_and_codebuild_terminal_states_from_the_api_enums(tmp_path) -> None:
    # botocore 1.44.8: PipelineExecutionStatus includes CompletedWithFailures; CodeBuild StatusType TIMED_OUT, FAULT.
    import botocore.session

    session = botocore.session.get_session()
    assert "CompletedWithFailures" in session.get_service_model("sagemaker").shape_for("PipelineExecutionStatus").enum
    assert {"TIMED_OUT", "FAULT"} <= set(session.get_service_model("codebuild").shape_for("StatusType").enum)
    (tmp_path / "spec.yaml").write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
                                        "  - {kind: sagemaker_pipeline, name: p, pipeline_name: train}\n"
                                        "  - {kind: codebuild, name: b, project_name: build}\n")
    template = build_template(load_spec(tmp_path / "spec.yaml")).template.to_dict()
    assert "CompletedWithFailures" in rule_named(template, "s-p-PipelineExecutionFailed")["EventPattern"]["detail"][
        "currentPipelineExecutionStatus"]
    assert {"TIMED_OUT", "FAULT"} <= set(rule_named(template, "s-b-BuildFailed")["EventPattern"]["detail"]["build-status"])


def test_percentiles_aws_does_not_list_are_marked_with_the_call_that_settles_them(discovered) -> None:
    # monitoring-cloudwatch lists no percentiles for OverheadLatency; async-inference-monitor none for
    # ModelLatency / TotalProcessingTime on asynchronous endpoints.
    overhead = _alarms_of(discovered, "llm-endpoint")["facts-llm-endpoint-AllTraffic-OverheadLatencyP99"]
    assert "[unverified] p99 of OverheadLatency" in _text(overhead["AlarmDescription"])
    assert "--extended-statistics p99" in _text(overhead["AlarmDescription"])
    latency = _alarms_of(discovered, "async-endpoint")["facts-async-endpoint-AllTraffic-ModelLatencyP99"]
    assert "[unverified] p99 of ModelLatency" in _text(latency["AlarmDescription"])
    realtime = _alarms_of(discovered, "llm-endpoint")["facts-llm-endpoint-AllTraffic-ModelLatencyP99"]
    assert "[unverified]" not in _text(realtime["AlarmDescription"])  # listed with Percentiles for real-time endpoints


def test_unknown_instance_type_is_an_assumption_the_plan_shows(template) -> None:
    from mlmon_cli.plan import plan_from_templates

    rows = {r.name: r for r in plan_from_templates({"": template}).rows}
    assert "assuming 1 vCPU: instance type unknown, set instance_type or instance_vcpus" in rows[
        "churn-scoring-AllTraffic-CPUUtilization"].threshold


# --------------------------------------------------------------------------------------------------
# Knowledge bases (kb-managed-observability, knowledge-bases-logging; facts-3 §0): a RAG template with a
# knowledge base, its data source and an agent without an alias gets a spec generate accepts.
RAG_APP = ROOT / "tests" / "data" / "app" / "rag.yaml"


@pytest.fixture(scope="module")
def rag(tmp_path_factory) -> tuple[str, dict]:
    from mlmon_cli.discover import spec_from_template
    from mlmon_cli.spec.app_template import load_app_template

    folder = tmp_path_factory.mktemp("rag")
    (folder / "app.yaml").write_text(RAG_APP.read_text())
    found = spec_from_template(load_app_template(folder / "app.yaml", "app.yaml"), "app.yaml", "rag", "app.yaml")
    (folder / "spec.yaml").write_text(found.text)
    assert found.watched == ["Docs"]
    return found.text, build_template(load_spec(folder / "spec.yaml")).template.to_dict()


def test_knowledge_base_ingestion_logs_are_delivered_and_failures_alarm(rag) -> None:
    text, template = rag
    # knowledge-bases-logging: DeliverySource with the knowledge base's ARN and LogType APPLICATION_LOGS
    (source,) = [r["Properties"] for r in resources_of(template, "AWS::Logs::DeliverySource").values()]
    assert source["LogType"] == "APPLICATION_LOGS"
    assert source["ResourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:"
                                                "knowledge-base/${Docs.KnowledgeBaseId}"}
    (destination,) = resources_of(template, "AWS::Logs::DeliveryDestination").values()
    (delivery,) = [r["Properties"] for r in resources_of(template, "AWS::Logs::Delivery").values()]
    assert delivery["DeliveryDestinationArn"] == {"Fn::GetAtt": [next(iter(resources_of(template, "AWS::Logs::DeliveryDestination"))), "Arn"]}
    assert "log-group:${DocsIngestionLogs}" in destination["Properties"]["DestinationResourceArn"]["Fn::Sub"]
    # the document and job failure states of knowledge-bases-logging and kb-managed-observability
    (flt,) = [r["Properties"] for r in resources_of(template, "AWS::Logs::MetricFilter").values()]
    for state in ('$.event.status = "EMBEDDING_FAILED"', '$.event.status = "INDEXING_FAILED"', '$.event.status = "FAILED"',
                  '$.event.ingestion_job_status = "FAILED"', '$.event.connector_document_status.Status = "FAILED"'):
        assert state in flt["FilterPattern"]
    assert "RESOURCE_IGNORED" not in flt["FilterPattern"]
    # merged output: names and the log metrics' namespace come from the stack (one template, many stacks)
    failures = next(p for p in (r["Properties"] for r in resources_of(template, "AWS::CloudWatch::Alarm").values())
                    if p["MetricName"] == "docs-IngestionFailures")
    assert (failures["Namespace"], failures["Threshold"]) == ({"Fn::Sub": "mlmon/${AWS::StackName}"}, 1)
    assert flt["MetricTransformations"][0]["MetricNamespace"] == {"Fn::Sub": "mlmon/${AWS::StackName}"}
    assert source["Name"] == {"Fn::Sub": "mlmon-kb-${Docs.KnowledgeBaseId}-ingestion"}  # unique per knowledge base
    # a vector knowledge base publishes no runtime metric (only MANAGED ones do)
    assert not [a for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("Namespace") == "AWS/Bedrock/KnowledgeBases"]
    assert "#   DocsSource (AWS::Bedrock::DataSource): watched through its knowledge base's ingestion logs" in text
    assert "#   Assistant (AWS::Bedrock::Agent): no AWS::Bedrock::AgentAlias of it in this template" in text


def test_managed_knowledge_base_runtime_metrics_carry_the_documented_dimensions(tmp_path) -> None:
    # kb-managed-observability: Operation (Retrieve) and KnowledgeBaseId in the format knowledge-base/<id>
    (tmp_path / "spec.yaml").write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
                                        "  - {kind: bedrock_knowledge_base, name: kb, knowledge_base_id: ABCDE12345, "
                                        "managed: true, ingestion_logs: false}\n")
    template = build_template(load_spec(tmp_path / "spec.yaml")).template.to_dict()
    for suffix, metric in (("RetrieveServerErrors", "ServerErrors"), ("RetrieveThrottles", "Throttles"),
                           ("RetrieveClientErrors", "ClientErrors")):
        props = alarm(template, f"s-kb-{suffix}")
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Bedrock/KnowledgeBases", metric, "Sum")
        assert dims(props) == {"Operation": "Retrieve", "KnowledgeBaseId": "knowledge-base/ABCDE12345"}
        assert "cloudwatch:PutMetricData" in props["AlarmDescription"]


def test_a_template_with_only_an_agent_gets_no_spec(runner, tmp_path) -> None:
    from mlmon_cli.cli import main

    agent_only = yaml.safe_load(RAG_APP.read_text().replace("!Ref ", "").replace("!Sub ", ""))
    agent_only["Resources"] = {"Assistant": agent_only["Resources"]["Assistant"]}
    agent_only["Resources"]["Assistant"]["Properties"].pop("KnowledgeBases")
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(agent_only))
    result = runner.invoke(main, ["init", "--from-template", str(tmp_path / "app.yaml"), "-o", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 1 and not (tmp_path / "spec.yaml").exists()
    assert "nothing in this template is a resource mlmon can watch" in result.stderr
    assert "Resources.Assistant: AWS::Bedrock::Agent: no AWS::Bedrock::AgentAlias of it in this template" in result.stderr


def test_clarify_bias_and_feature_attribution_drift_use_the_documented_names() -> None:
    # clarify-model-monitor-bias-drift-cw: aws/sagemaker/Endpoints/bias-metrics, bias_metric_<short name>, dimensions
    # Endpoint, MonitoringSchedule, BiasStage, Label, LabelValue, Facet, FacetValue.
    # clarify-feature-attribute-drift-cw: aws/sagemaker/Endpoints/explainability-metrics, feature_<name>, dimensions
    # Endpoint, MonitoringSchedule, ExplainabilityMethod=KernelShap, Label, ValueType=GlobalShapValues.
    template = build_template(load_spec(ROOT / "tests" / "golden" / "model_monitor_clarify" / "spec.yaml")).template.to_dict()
    bias = alarm(template, "golden-credit-BiasDrift-DPPL")
    assert (bias["Namespace"], bias["MetricName"], bias["Statistic"]) == ("aws/sagemaker/Endpoints/bias-metrics",
                                                                          "bias_metric_DPPL", "Maximum")
    assert dims(bias) == {"Endpoint": "golden-credit", "MonitoringSchedule": "golden-bias", "BiasStage": "Post-training",
                          "Label": "approved", "LabelValue": "1", "Facet": "gender", "FacetValue": "0"}
    assert "[unverified] the BiasStage spelling" in bias["AlarmDescription"]
    shap = alarm(template, "golden-credit-FeatureAttribution-income")
    assert (shap["Namespace"], shap["MetricName"], shap["Threshold"]) == ("aws/sagemaker/Endpoints/explainability-metrics",
                                                                          "feature_income", 0.4)
    assert dims(shap) == {"Endpoint": "golden-credit", "MonitoringSchedule": "golden-explain",
                          "ExplainabilityMethod": "KernelShap", "Label": "approved", "ValueType": "GlobalShapValues"}


def test_from_stack_scales_thresholds_to_the_deployed_instance_type(monkeypatch) -> None:
    """`init --from-stack` reads the instance type the stack was deployed with (a parameter value, not its
    default). LocalStack and moto do not create SageMaker endpoints from CloudFormation, so botocore's
    Stubber answers the three CloudFormation calls."""
    import boto3
    from botocore.stub import Stubber

    from mlmon_cli.aws.session import Aws, Target
    from mlmon_cli.discover.stack import spec_from_stack

    from mlmon_cli.spec.app_template import load_app_template

    template = load_app_template(FACTS3_APP, "facts3.yaml").data  # as CloudFormation returns it: JSON, long forms
    client = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "LlmEndpoint", "PhysicalResourceId": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-prod",
         "ResourceType": "AWS::SageMaker::Endpoint", "LastUpdatedTimestamp": "2026-12-01T00:00:00Z",
         "ResourceStatus": "CREATE_COMPLETE"}]}, {"StackName": "app"})
    stub.add_response("get_template", {"TemplateBody": json.dumps(template)}, {"StackName": "app", "TemplateStage": "Processed"})
    stub.add_response("describe_stacks", {"Stacks": [{
        "StackName": "app", "CreationTime": "2026-12-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
        "Parameters": [{"ParameterKey": "LlmInstanceType", "ParameterValue": "ml.g5.12xlarge"}]}]}, {"StackName": "app"})
    monkeypatch.setattr(Aws, "client", lambda self, service: client)
    with stub:
        found, _app = spec_from_stack("app", Target(region="us-east-1"))
    stub.assert_no_pending_responses()
    assert "    endpoint_name: llm-prod   # LlmEndpoint (AWS::SageMaker::Endpoint)\n" in found.text
    # ml.g5.12xlarge: 48 vCPUs, 4 GPUs (SageMaker AI pricing, instance details)
    assert "    instance_type: ml.g5.12xlarge   # parameter LlmInstanceType's value in LlmConfig" in found.text
    assert "(48 vCPUs, 4 GPUs: GPU alarm on; CPU threshold x 48)" in found.text


def test_feature_group_alarms_use_the_documented_metrics_and_mark_the_namespace() -> None:
    # monitoring-cloudwatch, "Amazon SageMaker Feature Store metrics": Operation5XXErrors, Operation4XXErrors,
    # ThrottledRequests (0/1 per request), Latency (microseconds, percentiles), dimensions FeatureGroupName,
    # OperationName for GetRecord/PutRecord/DeleteRecord. The page names no namespace: [unverified] with the call.
    template = build_template(load_spec(ROOT / "tests" / "golden" / "sagemaker_feature_group_basic" / "spec.yaml")).template.to_dict()
    errors = alarm(template, "golden-customer-features-GetRecord-ServerErrors")
    assert (errors["MetricName"], errors["Statistic"]) == ("Operation5XXErrors", "Sum")
    assert dims(errors) == {"FeatureGroupName": "golden-customers", "OperationName": "GetRecord"}
    assert "[unverified] namespace AWS/SageMaker" in errors["AlarmDescription"]
    assert "aws cloudwatch list-metrics --metric-name Operation5XXErrors" in errors["AlarmDescription"]
    rate = alarm(template, "golden-customer-features-PutRecord-ClientErrorRate")
    assert (rate["MetricName"], rate["Statistic"], rate["Threshold"]) == ("Operation4XXErrors", "Average", 0.05)
    latency = alarm(template, "golden-customer-features-GetRecord-LatencyP99")
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == ("Latency", "p99", 50000)  # µs
