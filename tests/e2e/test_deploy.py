"""`mlmon deploy` against LocalStack: create, no-op update, update, S3 upload, failure report,
parameters, tags, --profile/--region, usage errors. Through click's CliRunner unless noted."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import load_spec
from tests.e2e.helpers import Account
from tests.e2e.localstack import REPO_ROOT

ACCOUNT = "220000000001"
BUCKET = "deploy-e2e-templates"
CHURN = REPO_ROOT / "specs" / "churn-model.yaml"
RECS = REPO_ROOT / "specs" / "realtime-platform.yaml"


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    account = Account(localstack, ACCOUNT)
    account.bucket(BUCKET)
    return account


def test_create_then_noop_then_update(account, tmp_path) -> None:
    stack = "deploy-churn"
    created = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", stack, "--s3-bucket", BUCKET,
                            "--tag", "team=ml", "--tag", "env=e2e")
    assert created.exit_code == 0, created.stderr
    resources = len(build_template(load_spec(CHURN)).template.resources)
    err = created.stderr
    assert f"(CREATE stack {stack}): {resources} changes ({resources} add)" in err
    assert "  + Add     AlertsTopic" in err and "AWS::SNS::Topic" in err
    assert "CREATE_IN_PROGRESS" in err and f"stack {stack}: CREATE_COMPLETE in" in err  # progress, then the end
    assert "mlmon fire --stack-name deploy-churn" in err  # the pending-confirmation reminder
    outputs = dict(line.split("=", 1) for line in created.stdout.splitlines())
    assert outputs["AlertTopicArn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:churn-alerts"
    assert "ConfirmSubscriptions" in outputs and "AlertKeyArn" in outputs
    stack_desc = account.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack_desc["Tags"]} == {"env": "e2e", "team": "ml"}

    noop = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", stack, "--s3-bucket", BUCKET)
    assert noop.exit_code == 0, noop.stderr
    assert f"mlmon: no changes: stack {stack} is up to date (CREATE_COMPLETE)" in noop.stderr
    assert noop.stdout == created.stdout  # outputs printed all the same
    assert account.client("cloudformation").list_change_sets(StackName=stack)["Summaries"] == []  # cleaned up

    data = yaml.safe_load(CHURN.read_text())
    data["components"][0]["alarms"]["errors"]["threshold"] = 3
    changed = tmp_path / "churn-model.yaml"
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    updated = account.mlmon(tmp_path, "deploy", str(changed), "--stack-name", stack, "--s3-bucket", BUCKET)
    assert updated.exit_code == 0, updated.stderr
    assert f"(UPDATE stack {stack}): " in updated.stderr
    assert "  ~ Modify  PreprocessErrorsAlarm" in updated.stderr
    assert "  + Add" not in updated.stderr and "  - Remove" not in updated.stderr
    assert f"stack {stack}: UPDATE_COMPLETE in" in updated.stderr
    account.delete(stack)


def test_failing_deploy_lists_failed_resources_and_reasons(account, tmp_path) -> None:
    """The realtime-platform spec pointed at a topic that does not exist: its email subscription
    fails. Also covers the S3 upload (the template is over 51,200 bytes)."""
    stack = "deploy-missing-topic"
    data = yaml.safe_load(RECS.read_text())
    data["notifications"]["topic_arn"] = f"arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic"
    spec = tmp_path / "missing-topic.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    bucket = account.bucket("deploy-e2e-artifacts")
    result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--s3-bucket", bucket, "--s3-prefix", "tpl/")
    assert result.exit_code == 5, result.stderr
    err = result.stderr
    assert f"mlmon: deploy of stack {stack} failed: ROLLBACK_COMPLETE" in err
    assert "(AWS::SNS::Subscription): CREATE_FAILED: " in err and "Topic does not exist" in err
    assert f"delete it before deploying again: aws cloudformation delete-stack --stack-name {stack}" in err
    assert "Traceback (most recent call last)" not in err and result.stdout == ""
    body = dump(build_template(load_spec(spec)).template.to_dict(), "yaml").encode()
    key = f"tpl/{hashlib.sha256(body).hexdigest()}.yaml"
    assert f"uploaded {len(body)} bytes to s3://{bucket}/{key}" in err
    assert account.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == body

    again = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--s3-bucket", bucket)
    assert again.exit_code == 5
    assert f"stack {stack} is in ROLLBACK_COMPLETE and cannot be updated" in again.stderr
    account.delete(stack)


def test_large_template_needs_s3_bucket(account, tmp_path) -> None:
    result = account.mlmon(tmp_path, "deploy", str(RECS), "--stack-name", "deploy-no-bucket")
    assert result.exit_code == 2, result.stderr
    assert "over CloudFormation's 51200-byte inline limit: pass --resolve-s3 (a managed bucket) or --s3-bucket BUCKET" in result.stderr
    assert account.stack_status("deploy-no-bucket") is None  # nothing was created


def test_usage_errors(account, tmp_path) -> None:
    bad_tag = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", "x", "--tag", "novalue")
    assert (bad_tag.exit_code, bad_tag.stderr.strip()) == (2, "mlmon: --tag 'novalue': expected KEY=VALUE")  # before generating
    unknown = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", "x", "--parameter", "Threshold=3")
    assert unknown.exit_code == 2
    assert "--parameter Threshold: the template has no such parameter (it declares: none)" in unknown.stderr
    missing = account.mlmon(tmp_path, "deploy", str(CHURN))
    assert missing.exit_code == 2 and "--stack-name" in missing.stderr
    profile = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", "x", "--profile", "nope")
    assert profile.exit_code == 5 and "--profile nope" in profile.stderr


def test_profile_and_region(account, tmp_path) -> None:
    """--profile picks the credentials (another account), --region the region."""
    other = Account(account.localstack, "220000000002", "eu-west-1")
    (tmp_path / "config").write_text("[profile e2e]\nregion = us-east-1\n")
    (tmp_path / "credentials").write_text(f"[e2e]\naws_access_key_id = {other.id}\naws_secret_access_key = test\n")
    env = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
           "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    other.bucket("deploy-e2e-eu-west-1")
    result = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", "deploy-profile", "--profile", "e2e",
                           "--region", "eu-west-1", "--s3-bucket", "deploy-e2e-eu-west-1", env=env)
    assert result.exit_code == 0, result.stderr
    assert "AlertTopicArn=arn:aws:sns:eu-west-1:220000000002:churn-alerts" in result.stdout
    assert other.stack_status("deploy-profile") == "CREATE_COMPLETE"
    assert account.stack_status("deploy-profile") is None
    other.delete("deploy-profile")


def test_parameters_are_passed_and_kept(account, monkeypatch, tmp_path) -> None:
    """Generated templates declare no parameters yet, so this drives the module with one that does:
    --parameter on create, UsePreviousValue when omitted (no changes), a new value updates."""
    from mlmon_cli.aws.deploy import DeployRequest, deploy_template
    from mlmon_cli.aws.session import Target

    for key, value in account.env(tmp_path).items():
        monkeypatch.setenv(key, value) if value is not None else monkeypatch.delenv(key, raising=False)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Threshold": {"Type": "Number"}},
        "Resources": {"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "deploy-params", "Namespace": "E2E", "MetricName": "m", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": {"Ref": "Threshold"}, "ComparisonOperator": "GreaterThanThreshold"}}},
    }
    target = Target(None, None, account.localstack.endpoint_url)
    lines: list[str] = []
    first = deploy_template(template, DeployRequest("deploy-params", target, ("Threshold=3",)), lines.append)
    assert (first.status, first.changed) == ("CREATE_COMPLETE", True)
    kept = deploy_template(template, DeployRequest("deploy-params", target), lines.append)
    assert kept.changed is False
    changed = deploy_template(template, DeployRequest("deploy-params", target, ("Threshold=5",)), lines.append)
    assert changed.status == "UPDATE_COMPLETE"
    params = account.client("cloudformation").describe_stacks(StackName="deploy-params")["Stacks"][0]["Parameters"]
    assert params == [{"ParameterKey": "Threshold", "ParameterValue": "5"}]
    assert json.dumps(lines)  # progress went to the callback, nothing printed
    account.delete("deploy-params")


def test_env_overlay_is_deployed(account, tmp_path) -> None:
    """--env applies the spec's environments.NAME overrides before deploying."""
    env_names = [n for n in (yaml.safe_load(CHURN.read_text()).get("environments") or {})]
    if not env_names:
        pytest.skip("churn-model.yaml defines no environments")
    env = env_names[0]
    dev = Account(account.localstack, ACCOUNT, "us-west-2")
    dev.bucket("deploy-e2e-us-west-2")
    result = dev.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", f"deploy-{env}", "--env", env,
                       "--s3-bucket", "deploy-e2e-us-west-2")
    assert result.exit_code == 0, result.stderr
    assert f"churn-model.yaml [env {env}]: " in result.stderr
    want = build_template(load_spec(CHURN, env=env)).template.to_dict()["Resources"]
    cfn = dev.client("cloudformation")
    got = {r["LogicalResourceId"] for page in cfn.get_paginator("list_stack_resources").paginate(StackName=f"deploy-{env}")
           for r in page["StackResourceSummaries"]}
    assert got == set(want)
    assert set(want) != set(build_template(load_spec(CHURN)).template.to_dict()["Resources"])  # the overlay mattered
    dev.delete(f"deploy-{env}")
