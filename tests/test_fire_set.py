"""`mlmon fire --stack-set` with botocore Stubber for what LocalStack 4.14 lacks (DescribeStackSet and
ListStackInstances of a StackSet its v2 engine made; service-managed permissions). The whole path,
role assumption and firing in two member accounts, runs in LocalStack: tests/e2e/test_organization.py."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from mlmon_cli.aws import fire_set
from mlmon_cli.aws.fire import FireResult, Fired, Subscription
from mlmon_cli.aws.session import Aws, Target
from mlmon_cli.cli import EXIT_USAGE, main
from mlmon_cli.errors import AwsError, AwsUsageError

ADMIN, MEMBER_A, MEMBER_B = "111111111111", "222222222222", "333333333333"
TOPIC = f"arn:aws:sns:eu-west-1:{MEMBER_A}:churn-alerts"


def _admin(monkeypatch) -> tuple[Stubber, Stubber, list[Target]]:
    """The administrator's clients, stubbed; member targets (assumed roles) are recorded."""
    admin = Aws(Target(region="eu-west-1"))
    members: list[Target] = []

    def aws_for(target: Target) -> Aws:
        if target.credentials:
            members.append(target)
        return admin

    monkeypatch.setattr(fire_set, "Aws", aws_for)
    return Stubber(admin.client("cloudformation")), Stubber(admin.client("sts")), members


def _stack_set(permission: str = "SELF_MANAGED", role: str | None = "stacksets-exec-custom-mlmon") -> dict:
    return {"StackSet": {"StackSetName": "churn", "PermissionModel": permission, **({"ExecutionRoleName": role} if role else {})}}


def _assumed(account: str) -> dict:
    return {"Credentials": {"AccessKeyId": f"ASIA{account}", "SecretAccessKey": "s", "SessionToken": "t",
                            "Expiration": "2026-12-05T01:00:00Z"},
            "AssumedRoleUser": {"AssumedRoleId": "AROA:mlmon-fire", "Arn": f"arn:aws:sts::{account}:assumed-role/r/mlmon-fire"}}


def test_every_listed_instance_is_fired_through_the_stack_sets_execution_role(monkeypatch) -> None:
    cfn, sts, members = _admin(monkeypatch)
    cfn.add_response("describe_stack_set", _stack_set(), {"StackSetName": "churn", "CallAs": "SELF"})
    sts.add_response("get_caller_identity", {"Account": ADMIN, "Arn": f"arn:aws:iam::{ADMIN}:user/admin", "UserId": "AIDA"})
    cfn.add_response("list_stack_instances", {"Summaries": [
        {"Account": MEMBER_B, "Region": "us-east-1", "StackId": f"arn:aws:cloudformation:us-east-1:{MEMBER_B}:stack/StackSet-churn-b/1"},
        {"Account": MEMBER_A, "Region": "eu-west-1", "StackId": f"arn:aws:cloudformation:eu-west-1:{MEMBER_A}:stack/StackSet-churn-a/2"},
    ]}, {"StackSetName": "churn", "CallAs": "SELF"})
    for account in (MEMBER_A, MEMBER_B):  # sorted by account, then Region
        sts.add_response("assume_role", _assumed(account),
                         {"RoleArn": f"arn:aws:iam::{account}:role/stacksets-exec-custom-mlmon", "RoleSessionName": "mlmon-fire"})
    fired: list[tuple[str, Target]] = []

    def fake_fire(request, log):
        fired.append((request.stack_name, request.target))
        if request.target.region == "us-east-1":
            raise AwsError("mlmon: cannot set churn-preprocess-Errors to ALARM: AccessDenied: not allowed")
        log("mlmon: churn-preprocess-Errors: OK -> ALARM")
        one = Fired("churn-preprocess-Errors", "metric", "OK", True, "OK", ["churn-preprocess-Errors"], ["churn-preprocess-Errors"], [TOPIC])
        return FireResult(request.stack_name, [one], [TOPIC], [Subscription(TOPIC, "email", "a@b.co", False)])

    monkeypatch.setattr(fire_set, "fire", fake_fire)
    lines: list[str] = []
    with cfn, sts:
        result = fire_set.fire_stack_set(fire_set.FireSetRequest("churn", Target(region="eu-west-1"), patterns=("*-Errors",)), lines.append)
    assert [(t.region, t.credentials) for _, t in fired] == [("eu-west-1", (f"ASIA{MEMBER_A}", "s", "t")), ("us-east-1", (f"ASIA{MEMBER_B}", "s", "t"))]
    assert [name for name, _ in fired] == [f"arn:aws:cloudformation:eu-west-1:{MEMBER_A}:stack/StackSet-churn-a/2",
                                           f"arn:aws:cloudformation:us-east-1:{MEMBER_B}:stack/StackSet-churn-b/1"]
    assert fire_set.report_lines(result) == [
        f"{MEMBER_A}\teu-west-1\tFIRED\tStackSet-churn-a: 1 of 1 alarm(s) fired and restored; reached {TOPIC} (1 confirmed, 0 pending subscription(s))",
        f"{MEMBER_B}\tus-east-1\tFAILED\tcannot set churn-preprocess-Errors to ALARM: AccessDenied: not allowed",
    ]
    assert lines == [f"{MEMBER_A} eu-west-1: mlmon: churn-preprocess-Errors: OK -> ALARM",
                     f"mlmon: {MEMBER_B} us-east-1: cannot set churn-preprocess-Errors to ALARM: AccessDenied: not allowed"]
    assert [i.account for i in result.failed] == [MEMBER_B]


def test_service_managed_stack_set_needs_a_role_name(monkeypatch) -> None:
    cfn, _, _ = _admin(monkeypatch)
    cfn.add_response("describe_stack_set", _stack_set("SERVICE_MANAGED", None), {"StackSetName": "churn", "CallAs": "DELEGATED_ADMIN"})
    with cfn, pytest.raises(AwsUsageError) as caught:
        fire_set.fire_stack_set(fire_set.FireSetRequest("churn", Target(region="eu-west-1"), call_as="DELEGATED_ADMIN"), print)
    assert str(caught.value) == ("mlmon: StackSet churn has service-managed permissions: its execution roles trust only StackSets; "
                                 "give --role-name, a role in each member account the administrator may assume "
                                 "(e.g. OrganizationAccountAccessRole)")


def test_without_instance_listing_the_targets_must_be_given(monkeypatch) -> None:
    cfn, sts, _ = _admin(monkeypatch)
    cfn.add_response("describe_stack_set", _stack_set(), {"StackSetName": "churn", "CallAs": "SELF"})
    sts.add_response("get_caller_identity", {"Account": ADMIN, "Arn": f"arn:aws:iam::{ADMIN}:user/admin", "UserId": "AIDA"})
    cfn.add_client_error("list_stack_instances", "ResourceNotFoundException", "Stack set named \"churn\" does not exist")
    with cfn, sts, pytest.raises(AwsError) as caught:
        fire_set.fire_stack_set(fire_set.FireSetRequest("churn", Target(region="eu-west-1")), print)
    assert str(caught.value) == ('mlmon: cannot list the instances of StackSet churn: ResourceNotFoundException: '
                                 'Stack set named "churn" does not exist; give them with --accounts and --regions')


@pytest.mark.parametrize("args,message", [
    ([], "mlmon: fire needs --stack-name or --stack-set (one of them)"),
    (["--stack-name", "s", "--stack-set", "x"], "mlmon: fire needs --stack-name or --stack-set (one of them)"),
    (["--stack-name", "s", "--accounts", ADMIN], "mlmon: --accounts, --regions, --role-name and --call-as need --stack-set"),
])
def test_fire_usage_errors(runner, args, message) -> None:
    result = runner.invoke(main, ["fire", *args, "--region", "eu-west-1"])
    assert (result.exit_code, result.stderr.strip()) == (EXIT_USAGE, message)


def test_accounts_without_regions_is_a_usage_error_before_any_call(monkeypatch) -> None:
    cfn, sts, _ = _admin(monkeypatch)  # nothing stubbed: any AWS call fails the test
    with cfn, sts, pytest.raises(AwsUsageError, match=r"^mlmon: fire --stack-set: give both --accounts and --regions, or neither"):
        fire_set.fire_stack_set(fire_set.FireSetRequest("churn", Target(region="eu-west-1"), accounts=(MEMBER_A,)), print)
