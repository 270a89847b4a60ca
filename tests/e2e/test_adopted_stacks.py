"""Issue 19 in LocalStack: one merged template, many stacks; resources added after `init` are watched.

- the merged output of one spec is deployed twice into one account and Region (staging and prod
  told apart by a parameter, as SageMaker Project and SAM apps are); every physical name mlmon
  adds comes from the stack name, so both deploy, and an alarm of each notifies only its own
  stack's subscriber; `deploy --no-execute` reviews a third stack and `fire` works on each.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.helpers import Account, Inbox, alarm_notifications
from tests.e2e.localstack import REPO_ROOT
from tests.e2e.test_existing_templates import physical

ACCOUNT = "250000000019"
APP = REPO_ROOT / "tests" / "data" / "adopted" / "stacks.yaml"  # LocalStack community runs no Lambda: state machines


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


def _outputs(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def test_one_merged_template_deploys_as_two_stacks_each_notifying_its_own_subscriber(account: Account, tmp_path: Path) -> None:
    shutil.copy(APP, tmp_path / "template.yaml")
    spec = tmp_path / "monitoring.yaml"
    result = account.mlmon(tmp_path, "init", "--from-template", str(tmp_path / "template.yaml"), "-o", str(spec))
    assert result.exit_code == 0, result.stderr
    assert "solution: template" not in spec.read_text()  # SAM's default file name names no app: the folder's name does
    assert account.mlmon(tmp_path, "generate", str(spec), "-o", str(tmp_path / "merged.json")).exit_code == 0
    merged = json.loads((tmp_path / "merged.json").read_text())
    failed = merged["Resources"]["ScoreExecutionsFailedAlarm"]["Properties"]
    stacks = {"app-staging": "staging", "app-prod": "prod"}
    bucket = account.bucket("app-stacks-templates")  # the template is over the 51,200-byte inline limit
    inboxes = {}
    cfn = account.client("cloudformation")
    try:
        for stack, stage in stacks.items():
            result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--parameter", f"Stage={stage}",
                                   "--s3-bucket", bucket)
            assert result.exit_code == 0, result.stderr + result.stdout
            inboxes[stack] = Inbox(account, [_outputs(result.stdout)["AlertTopicArn"]], stack)
        topics = {inbox.topics[0] for inbox in inboxes.values()}
        assert len(topics) == 2, topics  # one topic per stack
        review = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", "app-review", "--no-execute",
                               "--parameter", "Stage=review", "--s3-bucket", bucket)
        assert review.exit_code == 0, review.stderr + review.stdout
        cw = account.client("cloudwatch")
        for stack in stacks:
            for inbox in inboxes.values():
                inbox.drain()
            name = physical(failed["AlarmName"], stack)
            cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="mlmon e2e: breached")
            composite = physical(merged["Resources"]["ScoreCriticalComposite"]["Properties"]["AlarmName"], stack)
            mine = inboxes[stack].collect(lambda m: bool(alarm_notifications(m)), timeout=30)
            assert {k[0] for k in alarm_notifications(mine)} == {composite}
            other = next(s for s in stacks if s != stack)
            assert alarm_notifications(inboxes[other].receive(wait=2)) == {}
            cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="mlmon e2e: restored")
        fired = account.mlmon(tmp_path, "fire", "--stack-name", "app-staging", "--alarm", "app-staging-*-ExecutionsFailed", "--wait", "2")
        assert fired.exit_code == 0, fired.stderr + fired.stdout
        assert "app-prod" not in fired.stdout
    finally:
        for stack in [*stacks, "app-review"]:
            cfn.delete_stack(StackName=stack)


LATE = """\
  Late:                     # added after init
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::250000000019:role/sfn
      DefinitionString: '{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}'
"""


def test_a_resource_added_after_init_is_watched_after_the_next_generate(account: Account, tmp_path: Path) -> None:
    template = tmp_path / "app.yaml"
    shutil.copy(APP, template)
    spec = tmp_path / "monitoring.yaml"
    assert account.mlmon(tmp_path, "init", "--from-template", str(template), "-o", str(spec)).exit_code == 0
    template.write_text(template.read_text() + LATE)
    result = account.mlmon(tmp_path, "generate", str(spec), "-o", str(tmp_path / "merged.json"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"mlmon: watched by default (1 resource(s) of {template} the spec does not list): "
                                    "Late (step_functions);")
    cfn = account.client("cloudformation")
    try:
        result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", "app-late", "--parameter", "Stage=late",
                               "--s3-bucket", account.bucket("app-late-templates"))
        assert result.exit_code == 0, result.stderr + result.stdout
        arn = cfn.describe_stack_resource(StackName="app-late", LogicalResourceId="Late")["StackResourceDetail"]["PhysicalResourceId"]
        alarms = account.client("cloudwatch").describe_alarms(AlarmNamePrefix="app-late-late-")["MetricAlarms"]
        watched = {d["Value"] for a in alarms for d in a.get("Dimensions") or [] if d["Name"] == "StateMachineArn"}
        assert watched == {arn}, (watched, arn)
    finally:
        cfn.delete_stack(StackName="app-late")
