"""Review before changing anything, against LocalStack: `deploy --resolve-s3` with no bucket,
`deploy --no-execute` (change set plus property diff, stack unchanged), `mlmon delete`,
AWS_REGION, `fire --strict`. Through click's CliRunner."""

from __future__ import annotations

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.e2e.helpers import Account, Inbox
from tests.e2e.localstack import REPO_ROOT

ACCOUNT = "240000000001"
CHURN = REPO_ROOT / "specs" / "churn-model.yaml"
SMALL = """\
solution: review
notifications: {emails: [oncall@example.com]}
components:
  - kind: lambda
    name: fn
    function_name: review-fn
    timeout_seconds: 60
    log_queries: false
"""


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


def _status(account: Account, name: str) -> str | None:
    try:
        stack = account.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return None
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack["StackStatus"]


def _threshold(account: Account, alarm: str) -> float | None:
    found = account.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    return found[0]["Threshold"] if found else None


def test_resolve_s3_then_review_then_delete(account, tmp_path) -> None:
    stack, bucket = "review-churn", f"mlmon-artifacts-{ACCOUNT}-us-east-1"
    s3 = account.client("s3")
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}

    first = account.mlmon(tmp_path, "deploy", str(CHURN), "--stack-name", stack, "--resolve-s3")  # 76 KB: needs S3
    assert first.exit_code == 0, first.stderr
    assert f"mlmon: created the managed bucket s3://{bucket} (encrypted, public access blocked); later deploys reuse it" in first.stderr
    assert f"uploaded " in first.stderr and f"to s3://{bucket}/mlmon/" in first.stderr
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert _status(account, stack) == "CREATE_COMPLETE"
    assert _threshold(account, "churn-preprocess-Errors") == 1

    data = yaml.safe_load(CHURN.read_text())
    data["components"][0]["alarms"]["errors"]["threshold"] = 3
    changed = tmp_path / "churn-model.yaml"
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    review = account.mlmon(tmp_path, "deploy", str(changed), "--stack-name", stack, "--resolve-s3", "--no-execute")
    assert review.exit_code == 0, review.stderr
    err = review.stderr
    assert f"mlmon: using the managed bucket s3://{bucket}" in err and "created the managed bucket" not in err
    assert f"(UPDATE stack {stack}): " in err
    assert "  ~ Modify  PreprocessErrorsAlarm" in err
    assert "      ~ Properties.Threshold: 1 -> 3" in err  # the property-level diff
    assert "  + Add" not in err and "  - Remove" not in err
    assert f"mlmon: --no-execute: stack {stack} is unchanged; to apply exactly this change set: aws cloudformation " \
           "execute-change-set --change-set-name arn:" in err
    assert "stack events follow" not in err and "UPDATE_IN_PROGRESS" not in err
    change_set = review.stdout.strip().removeprefix("ChangeSetId=")
    assert change_set.startswith("arn:aws:cloudformation:us-east-1:")
    assert _status(account, stack) == "CREATE_COMPLETE"  # unchanged
    assert _threshold(account, "churn-preprocess-Errors") == 1
    [summary] = account.client("cloudformation").list_change_sets(StackName=stack)["Summaries"]
    assert (summary["ChangeSetId"], summary["ExecutionStatus"]) == (change_set, "AVAILABLE")  # left for review

    deleted = account.mlmon(tmp_path, "delete", "--stack-name", stack, "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert f"mlmon: deleting stack {stack} (CREATE_COMPLETE); stack events follow" in deleted.stderr
    assert f"mlmon: stack {stack}: DELETE_COMPLETE in" in deleted.stderr
    assert _status(account, stack) is None
    assert _threshold(account, "churn-preprocess-Errors") is None  # the alarms went with it
    again = account.mlmon(tmp_path, "delete", "--stack-name", stack, "--yes")
    assert (again.exit_code, again.stderr) == (0, f"mlmon: stack {stack} does not exist: nothing to delete\n")
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}  # the managed bucket stays for the next deploy


def test_no_execute_on_a_new_stack_creates_nothing(account, tmp_path) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    stack = "review-new"
    review = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--no-execute")
    assert review.exit_code == 0, review.stderr
    assert f"(CREATE stack {stack}): " in review.stderr and "  + Add     FnErrorsAlarm" in review.stderr
    assert f"stack {stack} is unchanged (REVIEW_IN_PROGRESS until the change set runs)" in review.stderr
    assert _status(account, stack) == "REVIEW_IN_PROGRESS"
    assert _threshold(account, "review-fn-Errors") is None
    deleted = account.mlmon(tmp_path, "delete", "--stack-name", stack, "-y")
    assert deleted.exit_code == 0, deleted.stderr
    assert _status(account, stack) is None


def test_aws_region_is_honoured(account, tmp_path) -> None:
    """AWS_REGION wins over AWS_DEFAULT_REGION (boto3 alone reads only the latter)."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    env = {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-east-1"}
    result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", "review-region", env=env)
    assert result.exit_code == 0, result.stderr
    assert f"AlertTopicArn=arn:aws:sns:eu-central-1:{ACCOUNT}:review-alerts" in result.stdout
    frankfurt = Account(account.localstack, ACCOUNT, "eu-central-1")
    assert _status(frankfurt, "review-region") == "CREATE_COMPLETE" and _status(account, "review-region") is None
    deleted = account.mlmon(tmp_path, "delete", "--stack-name", "review-region", "-y",
                            env=env)
    assert deleted.exit_code == 0, deleted.stderr
    assert _status(frankfurt, "review-region") is None


def test_fire_strict_fails_while_nobody_hears(account, tmp_path) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    stack = "review-fire"
    deployed = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack)
    assert deployed.exit_code == 0, deployed.stderr
    topic = dict(line.split("=", 1) for line in deployed.stdout.splitlines())["AlertTopicArn"]
    args = ("fire", "--stack-name", stack, "--alarm", "*-Errors", "--wait", "2")
    lenient = account.mlmon(tmp_path, *args)
    assert lenient.exit_code == 0, lenient.stderr  # without --strict: a report, not a failure
    strict = account.mlmon(tmp_path, *args, "--strict")
    assert strict.exit_code == 6, strict.stderr
    assert "PENDING  email oncall@example.com" in strict.stdout  # the only subscriber has not confirmed
    assert strict.stderr.endswith("mlmon: --strict: 1 alarm(s) reach nobody: review-fn-Errors\n")
    Inbox(account, [topic], "review-fire")  # an SQS subscription: confirmed at once
    heard = account.mlmon(tmp_path, *args, "--strict")
    assert heard.exit_code == 0, heard.stderr
    deleted = account.mlmon(tmp_path, "delete", "--stack-name", stack, "-y")
    assert deleted.exit_code == 0, deleted.stderr
