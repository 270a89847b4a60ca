"""`mlmon deploy` / `mlmon fire` without AWS: options, usage errors, helpers. Against LocalStack:
tests/e2e/test_deploy.py and tests/e2e/test_fire.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlmon_cli.aws.deploy import capabilities, change_summary, parse_pairs
from mlmon_cli.aws.fire import _parents, choose
from mlmon_cli.cli import main
from mlmon_cli.errors import AwsUsageError


def test_help_lists_the_commands_and_exit_code_5(runner) -> None:
    result = runner.invoke(main, ["--help"])
    assert "deploy " in result.stdout and "fire " in result.stdout
    assert "5   deploy, delete or fire failed against AWS" in result.stdout
    assert "6   fire --strict: an alarm reaches nobody" in result.stdout
    assert "delete " in result.stdout and "plan " in result.stdout
    for command in ("deploy", "fire", "delete"):
        assert "--endpoint-url URL" in runner.invoke(main, [command, "--help"]).stdout


@pytest.mark.slow  # subprocess
def test_cli_import_does_not_load_boto3() -> None:
    code = "import sys, mlmon_cli.cli; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_parse_pairs() -> None:
    assert parse_pairs(["A=1", "B=x=y", "C="], "--tag") == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(AwsUsageError, match="--tag 'nope': expected KEY=VALUE"):
        parse_pairs(["nope"], "--tag")


def test_capabilities_only_when_needed() -> None:
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {}}
    assert capabilities([{"Resources": {"A": alarm}}]) == []
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
    assert capabilities([{"Resources": {"A": alarm}}, {"Resources": {"R": role}}]) == ["CAPABILITY_IAM"]
    named = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}
    assert capabilities([{"Resources": {"R": named}}]) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def test_change_summary() -> None:
    changes = [{"ResourceChange": {"Action": "Add", "LogicalResourceId": "A", "ResourceType": "AWS::SNS::Topic"}},
               {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "B", "ResourceType": "AWS::CloudWatch::Alarm",
                                   "Replacement": "False"}}]
    lines = change_summary("s", "UPDATE", "cs", changes)
    assert lines[0] == "mlmon: change set cs (UPDATE stack s): 2 changes (1 add, 1 modify)"
    assert lines[1].startswith("  + Add     A") and lines[2].endswith("AWS::CloudWatch::Alarm (replacement: False)")


def test_fire_choice_and_hierarchy() -> None:
    arn = "arn:aws:cloudwatch:us-east-1:1:alarm:"
    alarms = {"a-Errors": {"AlarmArn": arn + "a-Errors"}, "a-Throttles": {"AlarmArn": arn + "a-Throttles"},
              "a-Critical": {"AlarmArn": arn + "a-Critical", "AlarmRule": f'ALARM("{arn}a-Errors") OR ALARM("{arn}a-Throttles")'},
              "Top": {"AlarmArn": arn + "Top", "AlarmRule": 'ALARM("a-Critical")'}}
    names = [("a-Errors", "metric"), ("a-Throttles", "metric"), ("a-Critical", "composite"), ("Top", "composite")]
    assert choose(names, (), alarms) == ["a-Errors", "a-Throttles"]  # default: every metric alarm
    assert choose(names, ("*-Critical", "a-E*"), alarms) == ["a-Critical", "a-Errors"]
    with pytest.raises(AwsUsageError, match="--alarm x-\\*: no alarm of the stack matches"):
        choose(names, ("x-*",), alarms)
    assert _parents(alarms) == {"a-Errors": ["a-Critical"], "a-Throttles": ["a-Critical"], "a-Critical": ["Top"]}


# --------------------------------------------------------------------------- review, region, strict
def test_property_changes() -> None:
    from mlmon_cli.aws.diff import format_changes, property_changes

    old = {"Properties": {"Threshold": 1, "Dimensions": [{"Name": "F", "Value": "a"}], "Gone": True, "Same": [1, 2]}}
    new = {"Properties": {"Threshold": 3, "Dimensions": [{"Name": "F", "Value": "b"}], "New": {"x": 1}, "Same": [1, 2]}}
    assert property_changes(old, new) == [
        ("Properties.Dimensions[0].Value", "a", "b"), ("Properties.Gone", True, None),
        ("Properties.New", None, {"x": 1}), ("Properties.Threshold", 1, 3)]
    assert format_changes(property_changes(old, new), "") == [
        "~ Properties.Dimensions[0].Value: a -> b", "- Properties.Gone: true", '+ Properties.New: {"x":1}', "~ Properties.Threshold: 1 -> 3"]
    assert property_changes({"L": [1]}, {"L": [1, 2]}) == [("L", [1], [1, 2])]  # lists of other lengths: whole


def test_resource_diff_prefers_cloudformations_values() -> None:
    from mlmon_cli.aws.diff import resource_diff

    change = {"LogicalResourceId": "A", "Details": [{"Target": {
        "Attribute": "Properties", "Name": "Threshold", "Path": "/Properties/Threshold", "BeforeValue": "1", "AfterValue": "3"}}]}
    assert resource_diff(change, None, {"Resources": {}}) == ["      ~ Properties.Threshold: 1 -> 3"]
    bare = {"LogicalResourceId": "A", "Details": [{"Target": {"Attribute": "Properties", "Name": "Threshold"}}]}
    old = {"Resources": {"A": {"Type": "T", "Properties": {"Threshold": 1, "Period": 60}}}}
    new = {"Resources": {"A": {"Type": "T", "Properties": {"Threshold": 2, "Period": 60}}}}
    assert resource_diff(bare, old, new) == ["      ~ Properties.Threshold: 1 -> 2"]  # computed from the templates
    contexts = {**bare, "BeforeContext": '{"Properties": {"Threshold": "1"}}', "AfterContext": '{"Properties": {"Threshold": "5"}}'}
    assert resource_diff(contexts, old, new) == ["      ~ Properties.Threshold: 1 -> 5"]  # CloudFormation's contexts first


def test_deployed_yaml_template_with_short_intrinsics() -> None:
    import yaml

    from mlmon_cli.aws.diff import _CfnLoader

    assert yaml.load("A: !GetAtt X.Arn\nB: !Sub 'a${X}'\nC: !Ref Y\n", Loader=_CfnLoader) == {
        "A": {"Fn::GetAtt": ["X", "Arn"]}, "B": {"Fn::Sub": "a${X}"}, "C": {"Ref": "Y"}}


def test_managed_bucket_name_is_per_account_and_region() -> None:
    from mlmon_cli.aws.bucket import managed_bucket_name

    assert managed_bucket_name("123456789012", "ap-southeast-2") == "mlmon-artifacts-123456789012-ap-southeast-2"
    assert len(managed_bucket_name("123456789012", "ap-southeast-2")) <= 63


@pytest.mark.parametrize("flag, aws_region, default_region, want", [
    ("eu-west-1", "us-west-2", "us-east-2", "eu-west-1"),   # --region first
    (None, "us-west-2", "us-east-2", "us-west-2"),          # then AWS_REGION
    (None, None, "us-east-2", "us-east-2"),                 # then AWS_DEFAULT_REGION
])
def test_region_precedence(monkeypatch, tmp_path, flag, aws_region, default_region, want) -> None:
    from mlmon_cli.aws.session import Aws, Target

    (tmp_path / "config").write_text("[default]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in (("AWS_REGION", aws_region), ("AWS_DEFAULT_REGION", default_region)):
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    assert Aws(Target(region=flag)).region == want
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert Aws(Target()).region == "ap-south-1"  # last: the profile's region


def test_unheard_alarms() -> None:
    from mlmon_cli.aws.fire import Fired, FireResult, Subscription, unheard

    fired = [Fired("a", "metric", "OK", True, topics=["t1"]), Fired("b", "metric", "OK", True, topics=[]),
             Fired("c", "metric", "OK", True, topics=["t2"]), Fired("d", "metric", "OK", True, topics=["t3"])]
    subs = [Subscription("t1", "email", "x@example.com", False), Subscription("t2", "email", "y@example.com", True)]
    result = FireResult("s", fired, ["t1", "t2", "t3"], subs, unreadable=["t3"])
    assert unheard(result) == ["b", "c"]  # no action; only a pending subscription (t3 cannot be read: not counted)


def test_delete_asks_first(runner) -> None:
    result = runner.invoke(main, ["delete", "--stack-name", "s", "--region", "us-east-1"], input="n\n")
    assert result.exit_code == 1 and "Delete stack s and every alarm, rule and topic it created? [y/N]" in result.stderr
    assert "Aborted" in result.stderr


def test_resolve_s3_and_bucket_exclude_each_other(runner, tmp_path) -> None:
    from .conftest import ROOT

    result = runner.invoke(main, ["deploy", str(ROOT / "specs" / "churn-model.yaml"), "--stack-name", "s", "--resolve-s3",
                                  "--s3-bucket", "b", "--region", "us-east-1"])
    assert (result.exit_code, result.stderr) == (2, "mlmon: --resolve-s3 and --s3-bucket exclude each other: give one\n")


def test_delete_waits_through_a_transient_delete_failed(monkeypatch) -> None:
    """LocalStack flips a stack to DELETE_FAILED while one resource fails to delete and carries on
    to DELETE_COMPLETE; a DELETE_FAILED that holds with no new events is the real failure."""
    from mlmon_cli.aws import delete as delete_mod
    from mlmon_cli.errors import AwsError

    class Cfn:
        def __init__(self, statuses, events):
            self.statuses, self.events = list(statuses), list(events)
            self.deleted = False

        def describe_stacks(self, StackName):
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return {"Stacks": [{"StackName": "s", "StackId": "arn:s", "StackStatus": status}]}

        def delete_stack(self, StackName):
            self.deleted = True

        def describe_stack_events(self, StackName, **_):
            shown = self.events[:1] if self.deleted else []
            if self.deleted and self.events:
                self.events.pop(0)
            return {"StackEvents": [{"EventId": f"e{len(self.events)}", **e} for e in shown]}

    def run(cfn):
        class FakeAws:
            def __init__(self, target):
                pass

            def client(self, service):
                return cfn

        monkeypatch.setattr(delete_mod, "Aws", FakeAws)
        monkeypatch.setattr(delete_mod.FailedSettle.__init__, "__defaults__", (0.05,))
        lines = []
        return delete_mod.delete_stack(delete_mod.DeleteRequest("s", poll_seconds=0.01), lines.append), lines

    failed = {"LogicalResourceId": "Sub", "ResourceType": "AWS::SNS::Subscription", "ResourceStatus": "DELETE_FAILED",
              "ResourceStatusReason": "'Id'"}
    transient = Cfn(["CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_FAILED", "DELETE_COMPLETE"],
                    [failed, {"LogicalResourceId": "Key", "ResourceStatus": "DELETE_COMPLETE"}])
    result, lines = run(transient)
    assert result.status == "DELETE_COMPLETE" and lines[-1].startswith("mlmon: stack s: DELETE_COMPLETE in")
    real = Cfn(["CREATE_COMPLETE", "DELETE_FAILED"], [failed])
    with pytest.raises(AwsError, match=r"delete of stack s failed: DELETE_FAILED\n  Sub \(AWS::SNS::Subscription\): DELETE_FAILED: 'Id'"):
        run(real)


def test_delete_waits_while_a_resource_is_still_being_deleted(monkeypatch) -> None:
    """LocalStack keeps the stack at DELETE_FAILED while it deletes the next resource; a slow
    resource (a busy machine) outlasts the quiet period, so a resource whose last event is
    DELETE_IN_PROGRESS keeps the DELETE_FAILED from being believed (the e2e clean-up flake)."""
    from mlmon_cli.aws import delete as delete_mod

    failed = {"EventId": "e1", "StackId": "arn:s", "PhysicalResourceId": "sub", "LogicalResourceId": "Sub",
              "ResourceType": "AWS::SNS::Subscription", "ResourceStatus": "DELETE_FAILED", "ResourceStatusReason": "gone"}
    stack_failed = {"EventId": "e2", "StackId": "arn:s", "PhysicalResourceId": "arn:s", "LogicalResourceId": "s",
                    "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "DELETE_FAILED"}
    slow = {"EventId": "e3", "StackId": "arn:s", "PhysicalResourceId": "key", "LogicalResourceId": "Key",
            "ResourceType": "AWS::KMS::Key", "ResourceStatus": "DELETE_IN_PROGRESS"}
    settle = 0.05

    class Cfn:
        """DELETE_FAILED with Key in progress for 8 quiet periods, then Key and the stack complete."""

        def __init__(self):
            self.started: float | None = None

        def _phase(self):
            import time

            if self.started is None:
                return "before"
            return "slow" if time.monotonic() - self.started < 8 * settle else "done"

        def describe_stacks(self, StackName):
            status = {"before": "CREATE_COMPLETE", "slow": "DELETE_FAILED", "done": "DELETE_COMPLETE"}[self._phase()]
            return {"Stacks": [{"StackName": "s", "StackId": "arn:s", "StackStatus": status}]}

        def delete_stack(self, StackName):
            import time

            self.started = time.monotonic()

        def describe_stack_events(self, StackName, **_):
            events = {"before": [], "slow": [slow, stack_failed, failed],
                      "done": [{**slow, "EventId": "e4", "ResourceStatus": "DELETE_COMPLETE"}, slow, stack_failed, failed]}
            return {"StackEvents": events[self._phase()]}

    class FakeAws:
        def __init__(self, target):
            pass

        def client(self, service):
            return cfn

    cfn = Cfn()
    monkeypatch.setattr(delete_mod, "Aws", FakeAws)
    monkeypatch.setattr(delete_mod.FailedSettle.__init__, "__defaults__", (settle,))
    lines: list[str] = []
    result = delete_mod.delete_stack(delete_mod.DeleteRequest("s", poll_seconds=0.005), lines.append)
    assert result.status == "DELETE_COMPLETE", lines


def test_deploy_reads_outputs_once_the_stack_is_written_in_full(monkeypatch) -> None:
    """LocalStack sets CREATE_COMPLETE before the outputs and the stack's ChangeSetId; a describe
    in between reports success without outputs (the e2e KeyError 'AlertTopicArn'). deploy reads
    the outputs from the describe that shows the executed change set and every declared output."""
    from botocore.exceptions import ClientError

    from mlmon_cli.aws import deploy as deploy_mod

    template = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"AlertTopicArn": {"Value": {"Ref": "T"}},
                            "Optional": {"Condition": "Never", "Value": "x"}}}
    torn = [{"StackStatus": "CREATE_COMPLETE"},  # status written, outputs not yet
            {"StackStatus": "CREATE_COMPLETE", "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "arn:t"}]},
            {"StackStatus": "CREATE_COMPLETE", "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "arn:t"}],
             "ChangeSetId": "arn:cs"}]

    class Cfn:
        def __init__(self, after):
            self.after, self.executed, self.reads = list(after), False, 0

        def describe_stacks(self, StackName):
            if not self.executed:
                raise ClientError({"Error": {"Code": "ValidationError", "Message": "Stack with id s does not exist"}}, "DescribeStacks")
            self.reads += 1
            state = self.after.pop(0) if len(self.after) > 1 else self.after[0]
            return {"Stacks": [{"StackName": "s", "StackId": "arn:s", **state}]}

        def create_change_set(self, **_):
            return {"StackId": "arn:s", "Id": "arn:cs"}

        def describe_change_set(self, **_):
            return {"Status": "CREATE_COMPLETE", "ChangeSetId": "arn:cs", "StackId": "arn:s", "Changes": []}

        def describe_stack_events(self, StackName, **_):
            return {"StackEvents": []}

        def execute_change_set(self, ChangeSetName):
            self.executed = True

    def deploy(cfn):
        class FakeAws:
            def __init__(self, target):
                pass

            def client(self, service):
                return cfn

        monkeypatch.setattr(deploy_mod, "Aws", FakeAws)
        lines: list[str] = []
        return deploy_mod.deploy_template(template, deploy_mod.DeployRequest("s", poll_seconds=0.001), lines.append), lines

    result, lines = deploy(Cfn(torn))
    assert (result.status, result.outputs) == ("CREATE_COMPLETE", {"AlertTopicArn": "arn:t"})
    # an update: the previous change set's outputs are stale until the stack shows this change set
    stale = [{"StackStatus": "UPDATE_COMPLETE", "ChangeSetId": "arn:old", "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "old"}]},
             {"StackStatus": "UPDATE_COMPLETE", "ChangeSetId": "arn:cs", "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "new"}]}]
    result, _ = deploy(Cfn(stale))
    assert result.outputs == {"AlertTopicArn": "new"}
    # AWS: complete at the first describe, no ChangeSetId needed; nothing waits
    aws = Cfn([{"StackStatus": "CREATE_COMPLETE", "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "arn:t"}]}])
    result, lines = deploy(aws)
    assert result.outputs == {"AlertTopicArn": "arn:t"} and aws.reads == 1
    assert not any("without" in line for line in lines)
