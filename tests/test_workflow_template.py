"""The workflow kind's template: role scoped by ARN, alarms shared with step_functions, definition shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlmon_cli.components import load_all
from mlmon_cli.components.step_functions import METRIC_ALARMS
from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.workflow.iam import LOG_DELIVERY, XRAY
from mlmon_cli.lint import lint_files
from mlmon_cli.core.pipeline import load_spec

from .conftest import GOLDEN, ROOT

EXAMPLE = ROOT / "specs" / "training-workflow.yaml"


def resources(spec: Path, kind: str) -> dict[str, dict]:
    template = build_template(load_spec(spec)).template.to_dict()
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def statements(spec: Path) -> list[dict]:
    """Every statement of every workflow role of the spec."""
    found = []
    for role in resources(spec, "AWS::IAM::Role").values():
        (policy,) = role["Properties"]["Policies"]
        found += policy["PolicyDocument"]["Statement"]
    return found


def by_action(spec: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for s in statements(spec):
        for action in s["Action"]:
            found.setdefault(action, []).append(s)
    return found


def arns(statement: dict) -> list[str]:
    return [r["Fn::Sub"] if isinstance(r, dict) and "Fn::Sub" in r else r for r in statement["Resource"]]


def test_the_alarm_table_is_the_step_functions_one_on_the_generated_machine() -> None:
    workflow = load_all()["workflow"]
    assert workflow.alarms is METRIC_ALARMS and workflow.dimension_names == ("StateMachineArn",)
    found = resources(GOLDEN / "workflow_lambda_glue_sns_wait" / "spec.yaml", "AWS::CloudWatch::Alarm")
    alarms = [a for k, a in found.items() if k.startswith("Nightly")]  # not the solution's own alert-path alarms
    assert sorted(a["Properties"]["MetricName"] for a in alarms) == sorted(a.metric.name for a in METRIC_ALARMS)
    for alarm in alarms:
        assert alarm["Properties"]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "NightlyStateMachine"}}]


def test_role_trusts_step_functions_of_this_account_only_and_is_unnamed() -> None:
    role = resources(EXAMPLE, "AWS::IAM::Role")["RetrainingStateMachineRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "RoleName" not in role["Properties"]  # CAPABILITY_IAM is enough


@pytest.mark.parametrize("spec", [EXAMPLE, *sorted(GOLDEN.glob("workflow_*/spec.yaml"))], ids=lambda p: p.parent.name)
def test_no_wildcard_actions_and_every_resource_is_an_arn(spec: Path) -> None:
    for s in statements(spec):
        assert s["Effect"] == "Allow"
        assert all("*" not in a or a == "kms:GenerateDataKey*" for a in s["Action"]), s
        if s["Resource"] == "*":  # log delivery and X-Ray (CT.STEPFUNCTIONS.PR.1/2) have no resource-level permissions
            assert s["Action"] in (list(LOG_DELIVERY), list(XRAY)), s
            continue
        for resource in arns(s):
            assert isinstance(resource, dict) or resource.startswith("arn:"), s
            assert resource != "*"


def test_each_step_type_gets_exactly_its_permissions() -> None:
    spec = GOLDEN / "workflow_sagemaker_steps" / "spec.yaml"
    actions = by_action(spec)
    prefix = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
    assert arns(actions["sagemaker:CreateTrainingJob"][0]) == [prefix + "training-job/golden-train-*"]
    assert arns(actions["sagemaker:StopProcessingJob"][0]) == [prefix + "processing-job/golden-process-*"]
    assert arns(actions["sagemaker:DescribeTransformJob"][0]) == [prefix + "transform-job/golden-transform-*"]
    assert arns(actions["sagemaker:CreateModel"][0]) == [prefix + "model/golden-model-*"]
    assert arns(actions["sagemaker:CreateEndpointConfig"][0]) == [prefix + "endpoint-config/golden-config-*"]
    assert arns(actions["sagemaker:UpdateEndpoint"][0]) == [
        prefix + "endpoint/golden-endpoint", prefix + "endpoint-config/golden-config-*", prefix + "endpoint-config/golden-stable"]
    (pass_role,) = actions["iam:PassRole"]
    assert pass_role["Resource"] == ["arn:aws:iam::123456789012:role/golden-sm"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    rules = {r.rsplit("/", 1)[1] for s in actions["events:PutRule"] for r in arns(s)}
    assert rules == {f"StepFunctionsGetEventsForSageMaker{k}JobsRule" for k in ("Training", "Processing", "Transform")}
    assert {a for s in actions["events:PutRule"] for a in s["Action"]} == {"events:PutTargets", "events:PutRule", "events:DescribeRule"}


def test_lambda_glue_codebuild_sns_and_kms_permissions() -> None:
    actions = by_action(GOLDEN / "workflow_lambda_glue_sns_wait" / "spec.yaml")
    fn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:golden-prepare"
    assert arns(actions["lambda:InvokeFunction"][0]) == [fn, fn + ":*"]
    glue = actions["glue:StartJobRun"][0]
    assert glue["Action"] == ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
    assert arns(glue) == ["arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:job/golden-features"]
    assert actions["sns:Publish"][0]["Resource"] == [{"Ref": "AlertsTopic"}]  # the step and the fallback, merged
    kms = actions["kms:Decrypt"][0]
    (alias,) = resources(GOLDEN / "workflow_lambda_glue_sns_wait" / "spec.yaml", "AWS::KMS::Alias").values()
    assert kms["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias["Properties"]["AliasName"]}}
    assert kms["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    codebuild = by_action(GOLDEN / "workflow_codebuild_parallel" / "spec.yaml")
    assert codebuild["codebuild:StartBuild"][0]["Action"] == ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"]
    assert [r.rsplit("/", 1)[1] for r in arns(codebuild["codebuild:StartBuild"][0])] == ["golden-build", "golden-lint"]
    assert arns(codebuild["events:PutRule"][0])[0].endswith(":rule/StepFunctionsGetEventForCodeBuildStartBuildRule")


def test_existing_topic_needs_no_key_statement_and_qualified_lambda_arn_is_exact() -> None:
    actions = by_action(GOLDEN / "workflow_express_existing_topic" / "spec.yaml")
    assert "kms:Decrypt" not in actions
    assert actions["lambda:InvokeFunction"][0]["Resource"] == ["arn:aws:lambda:eu-west-1:123456789012:function:golden-score:live"]


def test_definition_is_a_mapping_with_the_topic_substituted() -> None:
    (machine,) = resources(GOLDEN / "workflow_codebuild_parallel" / "spec.yaml", "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert isinstance(props["Definition"], dict) and props["DefinitionSubstitutions"] == {"AlertTopicArn": {"Ref": "AlertsTopic"}}
    assert (props["StateMachineName"], props["StateMachineType"], props["Definition"]["TimeoutSeconds"]) == ("golden-release-flow", "STANDARD", 3600)
    build = props["Definition"]["States"]["Build and test"]["Branches"][0]["States"]["Build"]
    assert build["Retry"][0] | {"ErrorEquals": None} == {"ErrorEquals": None, "IntervalSeconds": 20, "MaxAttempts": 2, "BackoffRate": 1.5,
                                                         "MaxDelaySeconds": 45, "JitterStrategy": "NONE"}
    assert build["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "PropagateFailure"}]
    assert props["Definition"]["States"]["Build and test"]["Catch"][0]["ResultPath"] == "$.error"


@pytest.mark.slow
def test_a_workflow_split_into_a_nested_stack_lints_clean() -> None:
    """The role may land in a nested stack, where only the topic is passed in (no GetAtt AlertsKey)."""
    result = build_template(load_spec(EXAMPLE), split=True)
    jobs = [(stem, dump(t.to_dict(), "yaml")) for stem, t in result.nested.items()]
    assert jobs and [str(f) for f in lint_files(jobs) if f.severity in ("error", "warning")] == []
    nested = json.dumps([t.to_dict() for t in result.nested.values()])
    assert '"AlertsKey"' not in nested  # no GetAtt of the parent's key: its ARN is the AlertsKeyArn parameter
    (stack,) = [r for r in result.template.to_dict()["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert stack["Properties"]["Parameters"]["AlertsKeyArn"] == {"Fn::GetAtt": ["AlertsKey", "Arn"]}
