"""The exact EventBridge patterns per service: a wrong detail-type, field or status spelling matches
nothing and never errors, so each is pinned here, with where it was checked.

Sources (see ../shared/reference/aws-monitoring-facts.md §2 for the table):
- SageMaker jobs, endpoint, pipelines: "Events that Amazon SageMaker AI sends to Amazon EventBridge"
  (automating-sagemaker-with-eventbridge; example events carry TrainingJobStatus/ProcessingJobStatus/
  TransformJobStatus/HyperParameterTuningJobStatus with `Failed`, EndpointStatus `IN_SERVICE`/`FAILED`,
  and pipeline executions `currentPipelineExecutionStatus` + `pipelineArn`).
- Glue: automating-awsglue-with-cloudwatch-events (`state` FAILED/TIMEOUT/STOPPED, `jobName`).
- Step Functions: cw-events (`status` RUNNING/SUCCEEDED/FAILED/TIMED_OUT/ABORTED, `stateMachineArn`).
- CodePipeline: detect-state-changes-cloudwatch-events (`state`, `pipeline`).
- CodeBuild: sample-build-notifications(-ref) (`build-status`, `project-name`; IN_PROGRESS, SUCCEEDED,
  FAILED, STOPPED), plus the API's `StatusType` TIMED_OUT and FAULT (botocore; aws-ml-facts-3.md §0).
- SageMaker pipelines: also `CompletedWithFailures` (API `PipelineExecutionStatus`, botocore; facts-3 §0).
- HyperPod cluster events: `detail.EventDetails.ClusterName` is a required field
  (sagemaker-hyperpod-cluster-events-reference; facts-3 §0), so the rule filters on the cluster.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlmon_cli.components import load_all
from mlmon_cli.core.build import build_template
from mlmon_cli.render import render
from mlmon_cli.core.pipeline import load_spec

from .conftest import GOLDEN, GOLDEN_SPECS, SPECS
from .template_graph import resources_of

PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
SUB_ARN = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"

SPEC = """\
solution: ev
notifications: {emails: [a@example.com]}
components:
  - {kind: glue_job, name: glue, job_name: ev-glue}
  - {kind: sagemaker_training, name: train, job_name_prefix: ev-train-}
  - {kind: sagemaker_processing, name: proc, job_name_prefix: ev-proc-}
  - {kind: sagemaker_transform, name: batch, job_name_prefix: ev-batch-}
  - {kind: sagemaker_tuning, name: tune, job_name_prefix: ev-tune-}
  - {kind: sagemaker_endpoint, name: endpoint, endpoint_name: ev-endpoint}
  - {kind: sagemaker_pipeline, name: pipe, pipeline_name: EvModelBuild}
  - {kind: codepipeline, name: release, pipeline_name: ev-release}
  - {kind: codebuild, name: build, project_name: ev-build}
  - {kind: step_functions, name: flow-name, state_machine_name: ev-flow}
  - {kind: step_functions, name: flow-arn, state_machine_arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:ev-arn"}
  - {kind: bedrock_job, name: ft, job_type: model_customization, job_name_prefix: ev-ft-}
  - {kind: bedrock_job, name: bbatch, job_type: batch_inference, job_name_prefix: ev-bb-}
  - {kind: sagemaker_hyperpod, name: pod, cluster_name: ev-pod, continuous_provisioning: true}
  - {kind: sagemaker_model_registry, name: reg, model_package_group_name: ev-models}
"""

# rule name -> the exact pattern (source, detail-type, status field and values, name filter).
EXPECTED = {
    "ev-glue-JobRunFailed": {
        "source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": ["ev-glue"], "state": ["FAILED", "TIMEOUT"]},
    },
    "ev-train-TrainingJobFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobName": [{"prefix": "ev-train-"}], "TrainingJobStatus": ["Failed", "Stopped"]},
    },
    "ev-proc-ProcessingJobFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {"ProcessingJobName": [{"prefix": "ev-proc-"}], "ProcessingJobStatus": ["Failed", "Stopped"]},
    },
    "ev-batch-TransformJobFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Transform Job State Change"],
        "detail": {"TransformJobName": [{"prefix": "ev-batch-"}], "TransformJobStatus": ["Failed", "Stopped"]},
    },
    "ev-tune-TuningJobFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker HyperParameter Tuning Job State Change"],
        "detail": {"HyperParameterTuningJobName": [{"prefix": "ev-tune-"}],
                   "HyperParameterTuningJobStatus": ["Failed", "Stopped"]},
    },
    "ev-endpoint-EndpointFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {"EndpointName": ["ev-endpoint"], "EndpointStatus": ["FAILED"]},  # upper case, unlike the API
    },
    "ev-pipe-PipelineExecutionFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
        "detail": {  # camelCase fields; SageMaker lower-cases the name in the pipeline ARN
            "pipelineArn": [{"equals-ignore-case": {"Fn::Sub": SUB_ARN % ("sagemaker", "pipeline/evmodelbuild")}}],
            "currentPipelineExecutionStatus": ["Failed", "CompletedWithFailures", "Stopped"],  # API enum (facts-3 §0)
        },
    },
    "ev-release-PipelineFailed": {
        "source": ["aws.codepipeline"], "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": ["ev-release"], "state": ["FAILED"]},
    },
    "ev-build-BuildFailed": {
        "source": ["aws.codebuild"], "detail-type": ["CodeBuild Build State Change"],
        "detail": {"project-name": ["ev-build"], "build-status": ["FAILED", "FAULT", "TIMED_OUT", "STOPPED"]},  # API StatusType
    },
    "ev-flow-name-ExecutionFailedEvent": {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [{"Fn::Sub": SUB_ARN % ("states", "stateMachine:ev-flow")}],
                   "status": ["FAILED", "TIMED_OUT", "ABORTED"]},
    },
    # Bedrock (aws-ml-facts-2.md §2.1): customization uses jobStatus/jobName, batch status/batchJobName
    "ev-ft-CustomizationJobFailed": {
        "source": ["aws.bedrock"], "detail-type": ["Model Customization Job State Change"],
        "detail": {"jobName": [{"prefix": "ev-ft-"}], "jobStatus": ["Failed", "Stopped"]},
    },
    "ev-bbatch-BatchJobFailed": {
        "source": ["aws.bedrock"], "detail-type": ["Batch Inference Job State Change"],
        "detail": {"batchJobName": [{"prefix": "ev-bb-"}], "status": ["Failed", "PartiallyCompleted", "Expired", "Stopped"]},
    },
    # HyperPod (§6.1): AWS's cluster event pattern (EventLevel Error) narrowed to the cluster
    # (detail.EventDetails.ClusterName, required: sagemaker-hyperpod-cluster-events-reference, facts-3 §0)
    "ev-pod-ClusterFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker HyperPod Cluster State Change"],
        "detail": {"ClusterName": ["ev-pod"], "ClusterStatus": ["Failed", "RollingBack"]},
    },
    "ev-pod-NodeUnhealthy": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker HyperPod Cluster Node Health Event"],
        "detail": {"ClusterName": ["ev-pod"], "HealthSummary": {"HealthStatus": ["Unhealthy"]}},
    },
    "ev-pod-ClusterErrorEvent": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker HyperPod Cluster Event"],
        "detail": {"EventDetails": {"ClusterName": ["ev-pod"], "EventLevel": ["Error"]}},
    },
    # Model Registry (§6.2): failed packages alarm; approval changes only notify (no alarm)
    "ev-reg-ModelPackageFailed": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["ev-models"], "ModelPackageStatus": ["Failed"]},
    },
    "ev-reg-ApprovalChanged": {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["ev-models"], "ModelApprovalStatus": ["Approved", "Rejected"]},
    },
    "ev-flow-arn-ExecutionFailedEvent": {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": ["arn:aws:states:eu-west-1:123456789012:stateMachine:ev-arn"],
                   "status": ["FAILED", "TIMED_OUT", "ABORTED"]},
    },
}

# (source, detail-type) -> (status field, every failure value a rule may match), pinned for the
# services checked by hand (sources above). The table the tests use is derived from the kinds'
# own EventDefs (`KNOWN`), so a new kind needs no edit here; the pinned part must agree with it.
PINNED = {
    ("aws.glue", "Glue Job State Change"): ("state", {"FAILED", "TIMEOUT", "STOPPED"}),
    ("aws.sagemaker", "SageMaker Training Job State Change"): ("TrainingJobStatus", {"Failed", "Stopped"}),
    ("aws.sagemaker", "SageMaker Processing Job State Change"): ("ProcessingJobStatus", {"Failed", "Stopped"}),
    ("aws.sagemaker", "SageMaker Transform Job State Change"): ("TransformJobStatus", {"Failed", "Stopped"}),
    ("aws.sagemaker", "SageMaker HyperParameter Tuning Job State Change"): ("HyperParameterTuningJobStatus", {"Failed", "Stopped"}),
    ("aws.sagemaker", "SageMaker Endpoint State Change"): ("EndpointStatus", {"FAILED"}),
    ("aws.sagemaker", "SageMaker Model Building Pipeline Execution Status Change"): ("currentPipelineExecutionStatus", {"Failed", "Stopped",
                                                                                                    "CompletedWithFailures"}),
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): ("state", {"FAILED"}),
    ("aws.codebuild", "CodeBuild Build State Change"): ("build-status", {"FAILED", "STOPPED", "FAULT", "TIMED_OUT"}),
    ("aws.states", "Step Functions Execution Status Change"): ("status", {"FAILED", "TIMED_OUT", "ABORTED"}),
    ("aws.bedrock", "Model Customization Job State Change"): ("jobStatus", {"Failed", "Stopped"}),
    ("aws.bedrock", "Batch Inference Job State Change"): ("status", {"Failed", "PartiallyCompleted", "Expired", "Stopped"}),
    ("aws.sagemaker", "SageMaker HyperPod Cluster State Change"): ("ClusterStatus", {"Failed", "RollingBack"}),
    ("aws.sagemaker", "SageMaker HyperPod Cluster Node Health Event"): ("HealthSummary.HealthStatus", {"Unhealthy"}),
    ("aws.sagemaker", "SageMaker HyperPod Cluster Event"): ("EventDetails.EventLevel", {"Error"}),
    ("aws.sagemaker", "SageMaker Model Package State Change"): ("ModelPackageStatus", {"Failed"}),
}
# A second status field some rules of a detail-type use (the informational approval rule).
KNOWN_ALSO = {
    ("aws.sagemaker", "SageMaker Model Package State Change"): ("ModelApprovalStatus", {"Approved", "Rejected"}),
}
# Detail-types whose rule has no resource filter (AWS's own pattern; the event's resource field is undocumented).
NO_RESOURCE_FILTER = {("aws.sagemaker", "SageMaker HyperPod Cluster Event")}


def _status(detail: dict, field: str) -> list:
    for part in field.split("."):
        detail = detail.get(part, {})
    return detail or []


def _declared() -> dict[tuple[str, str], tuple[str, set[str]]]:
    found: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for cls in load_all().values():
        for alarm in cls.alarms:
            if alarm.event:
                e = alarm.event
                found[(e.source, e.detail_type)] = (e.status_field, set(e.failure_statuses))
    return found


KNOWN = _declared()


def test_every_event_declares_its_status_field_and_failure_values() -> None:
    assert all(field and values for field, values in KNOWN.values()), KNOWN


def test_the_hand_checked_patterns_agree_with_the_kinds() -> None:
    assert {key: KNOWN.get(key) for key in PINNED} == PINNED


def rules(template: dict) -> dict[str, dict]:
    return {r["Properties"]["Name"]: r["Properties"] for r in resources_of(template, "AWS::Events::Rule").values()}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("ev") / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return build_template(load_spec(path)).template.to_dict()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_pattern(template, name: str) -> None:
    assert rules(template)[name]["EventPattern"] == EXPECTED[name]


def test_every_rule_is_pinned(template) -> None:
    assert set(rules(template)) == set(EXPECTED)


def test_the_pinned_spec_names_only_kinds_with_event_rules(template) -> None:
    """A kind added later is covered by its golden case and `KNOWN`; this spec pins the hand-checked ones."""
    with_rules = {k for k, cls in load_all().items() if any(a.is_event for a in cls.alarms)}
    assert {c["kind"] for c in _spec_components()} <= with_rules


def _spec_components() -> list[dict]:
    import yaml

    return yaml.safe_load(SPEC)["components"]


def test_each_rule_has_a_triggered_rules_alarm(template) -> None:
    alarms = [a["Properties"] for a in resources_of(template, "AWS::CloudWatch::Alarm").values()]
    watched = {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == "TriggeredRules"}
    assert watched == set(EXPECTED) - {"ev-reg-ApprovalChanged"}  # informational: a message, never an alarm


@pytest.mark.parametrize("kind, option, name, field, kept", [
    ("sagemaker_training", "job_name_prefix: x-", "TrainingJobFailed", "TrainingJobStatus", ["Failed"]),
    ("sagemaker_processing", "job_name_prefix: x-", "ProcessingJobFailed", "ProcessingJobStatus", ["Failed"]),
    ("sagemaker_transform", "job_name_prefix: x-", "TransformJobFailed", "TransformJobStatus", ["Failed"]),
    ("sagemaker_tuning", "job_name_prefix: x-", "TuningJobFailed", "HyperParameterTuningJobStatus", ["Failed"]),
    ("sagemaker_pipeline", "pipeline_name: x", "PipelineExecutionFailed", "currentPipelineExecutionStatus", ["Failed", "CompletedWithFailures"]),
    ("codebuild", "project_name: xy", "BuildFailed", "build-status", ["FAILED", "FAULT", "TIMED_OUT"]),
    ("glue_job", "job_name: x", "JobRunFailed", "state", ["FAILED", "TIMEOUT"]),
])
def test_alert_on_stopped_false_keeps_only_failures(tmp_path: Path, kind, option, name, field, kept) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(f"solution: s\nnotifications: {{emails: [a@example.com]}}\ncomponents:\n"
                    f"  - {{kind: {kind}, name: c, {option}, alert_on_stopped: false}}\n", encoding="utf-8")
    pattern = rules(build_template(load_spec(path)).template.to_dict())[f"s-c-{name}"]["EventPattern"]
    assert pattern["detail"][field] == kept


def test_glue_alert_on_stopped_true_adds_stopped(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n"
                    "  - {kind: glue_job, name: c, job_name: x, alert_on_stopped: true}\n", encoding="utf-8")
    pattern = rules(build_template(load_spec(path)).template.to_dict())["s-c-JobRunFailed"]["EventPattern"]
    assert pattern["detail"]["state"] == ["FAILED", "TIMEOUT", "STOPPED"]


def test_every_event_definition_renders_with_known_placeholders() -> None:
    """Each kind's message template names only InputPathsMap keys, stays far below 8,192 characters,
    and says what failed, the status, a link or command and a first step."""
    seen = set()
    for cls in load_all().values():
        for alarm in cls.alarms:
            if not alarm.event or alarm.event.message_template in seen:
                continue
            event = alarm.event
            seen.add(event.message_template)
            text = render(f"events/{event.message_template}", solution="sol", component="comp")
            placeholders = set(PLACEHOLDER.findall(text))
            assert placeholders <= set(event.input_paths), (event.message_template, placeholders - set(event.input_paths))
            assert "<status>" in text or "<state>" in text, event.message_template
            assert "First step:" in text and ("https://" in text or "aws " in text), event.message_template
            assert len(json.dumps(text)) < 2000
            assert all(path.startswith("$.") for path in event.input_paths.values())
            assert len(event.input_paths) <= 100
    assert len(seen) >= 10  # one template per event type


INPUTS = SPECS + GOLDEN_SPECS


@pytest.mark.parametrize("spec_path", INPUTS, ids=[f"{p.parent.name}/{p.name}" for p in INPUTS])
def test_rules_in_every_bundled_spec_use_known_patterns_and_placeholders(spec_path: Path) -> None:
    template = build_template(load_spec(spec_path)).template.to_dict()
    for name, props in rules(template).items():
        if "Targets" not in props:  # a success-counting rule of expect_success_within_hours (test_beyond_thresholds.py)
            continue
        pattern = props["EventPattern"]
        (source,), (detail_type,) = pattern["source"], pattern["detail-type"]
        assert (source, detail_type) in KNOWN, name
        status_field, values = KNOWN[(source, detail_type)]
        if not _status(pattern["detail"], status_field) and (source, detail_type) in KNOWN_ALSO:
            status_field, values = KNOWN_ALSO[(source, detail_type)]
        assert _status(pattern["detail"], status_field) and set(_status(pattern["detail"], status_field)) <= values, name
        filters = 1 if (source, detail_type) in NO_RESOURCE_FILTER else 2
        extra = {"UpdatedModelPackageFields"} & set(pattern["detail"])  # only_approval_changes (sagemaker_model_registry)
        assert len(pattern["detail"]) - len(extra) == filters, f"{name}: one status field and one resource filter"
        (target,) = props["Targets"]
        transformer = target["InputTransformer"]
        assert len(transformer["InputTemplate"]) <= 8192
        placeholders = set(PLACEHOLDER.findall(transformer["InputTemplate"]))
        assert placeholders and placeholders <= set(transformer["InputPathsMap"]), name
