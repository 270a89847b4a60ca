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
    assert "5   deploy or fire failed against AWS" in result.stdout
    for command in ("deploy", "fire"):
        assert "--endpoint-url URL" in runner.invoke(main, [command, "--help"]).stdout


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
