"""Org scale: the `organization:` section, the member and central templates, StackSet deploy and
delete (botocore Stubber for what LocalStack lacks: service-managed permissions and OUs,
ListStackSetOperationResults, ListStackInstances), and the plan's deployment section.

LocalStack proves the multi-account path itself (tests/e2e/test_organization.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from botocore.stub import ANY, Stubber

from mlmon_cli.aws import stackset
from mlmon_cli.aws.session import Aws, Target
from mlmon_cli.cli import main
from mlmon_cli.core.organization import MAX_GROUP_RULES, _wildcards, paging_alarms
from mlmon_cli.core.pipeline import generate, generate_central, parse_spec
from mlmon_cli.errors import AwsError, AwsUsageError, SpecError

from .conftest import ROOT

MEMBERS = ["222222222222", "333333333333"]
BASE = {
    "solution": "churn",
    "notifications": {"emails": ["oncall@example.com"]},
    "components": [
        {"kind": "lambda", "name": "preprocess", "function_name": "churn-preprocess", "timeout_seconds": 120},
        {"kind": "glue_job", "name": "features", "job_name": "churn-feature-engineering"},
        {"kind": "step_functions", "name": "retraining",
         "state_machine_arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:churn-weekly-retraining"},
    ],
}
ORG = {"central_account": "999999999999", "central_region": "eu-west-1", "member_accounts": MEMBERS,
       "notifications": {"emails": ["platform@example.com"]},
       "targets": [{"accounts": MEMBERS, "regions": ["eu-west-1", "us-east-1"]}]}


def spec_text(org: dict | None = None, **extra) -> str:
    return yaml.safe_dump({**BASE, **({"organization": org} if org is not None else {}), **extra}, sort_keys=False)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "org.yaml")
    return [str(p) for p in info.value.problems]


# --- the spec section ---------------------------------------------------------------------------

def test_organization_section_is_checked_where_it_is_written() -> None:
    org = {"central_account": "99999999999", "central_region": "eu-west", "member_accounts": ["1234"],
           "organization_id": "org-1", "notifications": {"emails": ["a@example.com"]},
           "targets": [{"accounts": ["222222222222"], "organizational_units": ["ou-ab12-cdef3456"], "regions": ["eu-west-1"]},
                       {"organizational_units": ["ou-x"], "regions": ["mars-1"], "parameters": {"Endpoint": "x"}}]}
    found = problems(spec_text(org))
    assert "org.yaml:17:20: organization.central_account: '99999999999' is not a 12-digit AWS account ID (quote it: \"012345678901\")" in found
    assert "org.yaml:18:19: organization.central_region: 'eu-west' is not an AWS Region name (e.g. eu-west-1)" in found
    assert "org.yaml:20:5: organization.member_accounts[0]: '1234' is not a 12-digit AWS account ID (quote it: \"012345678901\")" in found
    assert "org.yaml:21:20: organization.organization_id: 'org-1' is not an organization ID (o- and 10-32 letters or digits)" in found
    assert ("org.yaml:26:5: organization.targets[0]: give either 'accounts' (self-managed permissions) or 'organizational_units' "
            "(service-managed), not both or neither") in found
    assert ("org.yaml:33:7: organization.targets[1].organizational_units[0]: 'ou-x' is not an organizational unit ID "
            "(ou-xxxx-xxxxxxxx) or root ID (r-xxxx)") in found
    assert "org.yaml:35:7: organization.targets[1].regions[0]: 'mars-1' is not an AWS Region name (e.g. eu-west-1)" in found
    assert ("org.yaml:37:7: organization.targets[1].parameters.Endpoint: 'Endpoint' is not one of the spec's parameters "
            "(declare it under 'parameters:'; known: none declared)") in found


def test_organization_needs_who_may_send_and_who_hears() -> None:
    found = problems(spec_text({"central_account": "999999999999", "central_region": "eu-west-1"}))
    assert found == [
        "org.yaml:17:3: organization: give 'member_accounts' (the accounts the central event bus admits) or 'organization_id' "
        "(the whole organization)",
        "org.yaml:17:3: organization.notifications: missing required key: the central recipients (emails, https_endpoints, "
        "lambda_arns, slack or topic_arn)",
    ]


def test_one_permission_model_per_stack_set() -> None:
    org = {**ORG, "targets": [{"accounts": MEMBERS, "regions": ["eu-west-1"]},
                              {"organizational_units": ["ou-ab12-cdef3456"], "regions": ["eu-west-1"]}]}
    assert problems(spec_text(org)) == [
        "org.yaml:26:3: organization.targets: one StackSet has one permission model: use 'accounts' in every target or "
        "'organizational_units' in every target"]


def test_parameter_overrides_name_the_specs_parameters() -> None:
    org = {**ORG, "targets": [{"accounts": MEMBERS, "regions": ["eu-west-1"], "parameters": {"FunctionName": "pre-dev"}}]}
    spec = parse_spec(spec_text(org, parameters={"FunctionName": {"default": "churn-preprocess"}}), "org.yaml")
    assert spec.organization.targets[0].parameters == (("FunctionName", "pre-dev"),)


# --- member side --------------------------------------------------------------------------------

def member(org: dict = ORG) -> dict:
    return generate(parse_spec(spec_text(org), "org.yaml")).template.to_dict()


def test_member_forwards_exactly_the_alarms_that_page_people() -> None:
    without = generate(parse_spec(spec_text(), "org.yaml"))
    paging = [name for _, name, _, _ in paging_alarms(without.template, {}, without.owners)]
    history = {"Ref": "AlarmHistoryTopic"}
    tpl = without.template.to_dict()
    expected = [p["AlarmName"] for p in (r["Properties"] for r in tpl["Resources"].values()
                                         if r["Type"].startswith("AWS::CloudWatch::") and r["Type"].endswith("Alarm"))
                if p.get("AlarmActions") and p["AlarmActions"] != [history]]
    assert paging == expected and len(paging) >= 4
    rule = member()["Resources"]["CentralForwardAlarms"]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                                    "detail": {"alarmName": expected, "state": {"value": ["ALARM", "OK"]}}}
    assert rule["Targets"] == [{"Id": "CentralBus", "RoleArn": {"Fn::GetAtt": ["CentralForwardRole", "Arn"]},
                                "Arn": {"Fn::Sub": "arn:${AWS::Partition}:events:eu-west-1:999999999999:event-bus/mlmon-churn"}}]


def test_member_role_may_only_put_events_on_the_central_bus() -> None:
    role = member()["Resources"]["CentralForwardRole"]["Properties"]
    assert "RoleName" not in role  # one per stack: two Regions of one account never collide
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [policy] = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": {
        "Fn::Sub": "arn:${AWS::Partition}:events:eu-west-1:999999999999:event-bus/mlmon-churn"}}]


def test_job_failure_rules_keep_their_local_target_and_add_the_central_bus() -> None:
    resources = member()["Resources"]
    readable = {k: r for k, r in resources.items() if r["Type"] == "AWS::Events::Rule" and k != "CentralForwardAlarms"}
    assert readable
    for rule in readable.values():
        ids = [t["Id"] for t in rule["Properties"]["Targets"]]
        assert ids[-1] == "CentralBus" and len(ids) == 2, ids
        assert "InputTransformer" not in rule["Properties"]["Targets"][-1]  # the event itself goes to the central bus


def test_without_organization_nothing_is_forwarded() -> None:
    resources = generate(parse_spec(spec_text(), "org.yaml")).template.to_dict()["Resources"]
    assert not [k for k in resources if k.startswith("Central")]


def test_adding_the_organization_renames_nothing() -> None:
    before = generate(parse_spec(spec_text(), "org.yaml")).template.to_dict()["Resources"]
    after = member()["Resources"]
    assert set(before) <= set(after)
    for logical in before:
        a, b = dict(before[logical]["Properties"]), dict(after[logical]["Properties"])
        a.pop("Targets", None), b.pop("Targets", None)
        assert a == b, logical


def test_merged_output_never_touches_the_users_rules(tmp_path: Path) -> None:
    app = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "app-fn", "Runtime": "python3.12", "Handler": "x.y",
                                                               "Role": "arn:aws:iam::123456789012:role/r", "Code": {"ZipFile": "x"}}},
        "AppRule": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["app"]}, "Targets": [
            {"Id": "t", "Arn": "arn:aws:sns:eu-west-1:123456789012:t", "InputTransformer": {"InputPathsMap": {}, "InputTemplate": "\"x\""}}]}},
    }}
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    text = yaml.safe_dump({"solution": "app", "template": "app.yaml", "notifications": {"emails": ["a@example.com"]},
                           "organization": ORG, "components": [{"kind": "lambda", "name": "fn", "resource": "Fn",
                                                                 "alarms": {"duration_p90": {"enabled": False}}}]})
    out = generate(parse_spec(text, str(tmp_path / "spec.yaml"))).template.to_dict()
    assert out["Resources"]["AppRule"] == app["Resources"]["AppRule"]
    assert "Name" not in out["Resources"]["CentralForwardAlarms"]["Properties"]  # one template, many stacks


# --- central side -------------------------------------------------------------------------------

def central() -> dict:
    return generate_central(parse_spec(spec_text(ORG), "org.yaml")).to_dict()


def test_central_bus_admits_only_the_members_or_the_organization() -> None:
    bus = central()["Resources"]["CentralBus"]["Properties"]
    assert bus["Name"] == "mlmon-churn"
    [statement] = bus["Policy"]["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{a}:root" for a in MEMBERS]}
    assert statement["Action"] == "events:PutEvents"
    org = generate_central(parse_spec(spec_text({**ORG, "member_accounts": [], "organization_id": "o-abcdefghij"}), "o.yaml")).to_dict()
    [statement] = org["Resources"]["CentralBus"]["Properties"]["Policy"]["Statement"]
    assert statement["Principal"] == "*" and statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_central_rules_name_account_region_solution_component_severity() -> None:
    resources = central()["Resources"]
    rules = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    alarm_rules = {k: r for k, r in rules.items() if r["EventPattern"]["source"] == ["aws.cloudwatch"]}
    by_component = {}
    for rule in alarm_rules.values():
        message = rule["Targets"][0]["InputTransformer"]["InputTemplate"]  # plain text, real line breaks
        component = next(line for line in message.splitlines() if line.startswith("Component: "))[11:]
        by_component.setdefault(component, []).append((rule, message))
    assert {"preprocess", "features", "retraining", "alert-path"} <= set(by_component)
    rule, message = next(x for x in by_component["preprocess"] if '"ALARM"' in json.dumps(x[0]["EventPattern"]["detail"]["state"]))
    assert message.splitlines() == [
        "churn: CRITICAL preprocess: <alarm> is in ALARM", "Account: <account>", "Region: <region>", "Solution: churn",
        "Component: preprocess", "Severity: critical", "Reason: <reason>",
        "Alarm: https://<region>.console.aws.amazon.com/cloudwatch/home?region=<region>#alarmsV2:alarm/<alarm>", "Time: <time>"]
    assert rule["Targets"][0]["InputTransformer"]["InputPathsMap"]["account"] == "$.account"
    assert rule["EventBusName"] == {"Ref": "CentralBus"}
    resolved = [r for r, _ in by_component["preprocess"] if r["EventPattern"]["detail"]["state"] == {"value": ["OK"]}]
    assert resolved and all(r["EventPattern"]["detail"]["previousState"] == {"value": ["ALARM"]} for r in resolved)


def test_central_copies_of_job_failure_rules_wildcard_what_each_member_resolves() -> None:
    resources = central()["Resources"]
    copies = {k: r["Properties"] for k, r in resources.items()
              if r["Type"] == "AWS::Events::Rule" and r["Properties"]["EventPattern"]["source"] != ["aws.cloudwatch"]}
    assert sorted(k[len("Central"):] for k in copies) == sorted(
        k for k, r in member()["Resources"].items()
        if r["Type"] == "AWS::Events::Rule" and k != "CentralForwardAlarms")
    retraining = next(r for k, r in copies.items() if k.startswith("CentralRetraining"))
    assert "arn:aws:states:eu-west-1:123456789012:stateMachine:churn-weekly-retraining" in json.dumps(retraining["EventPattern"])
    glue = next(r for k, r in copies.items() if k.startswith("CentralFeatures"))
    template = glue["Targets"][0]["InputTransformer"]["InputTemplate"]  # plain text, as the member's (core/build.py)
    assert template.startswith("Account <mlmonaccount>, Region <mlmonregion>: churn: Glue job <job> ended <state>")
    assert glue["Targets"][0]["InputTransformer"]["InputPathsMap"]["mlmonaccount"] == "$.account"
    # What each member resolves itself (its account, Region, parameters) becomes a wildcard on the central bus.
    assert _wildcards({"detail": {"stateMachineArn": [{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:x"}],
                                  "jobName": [{"Ref": "JobName"}], "status": ["FAILED"]}}) == {
        "detail": {"stateMachineArn": [{"wildcard": "arn:*:states:*:*:stateMachine:x"}], "jobName": [{"wildcard": "*"}],
                   "status": ["FAILED"]}}


def test_many_components_fall_back_to_one_rule_per_severity() -> None:
    components = [{"kind": "glue_job", "name": f"job{i}", "job_name": f"job-{i}"} for i in range(MAX_GROUP_RULES + 1)]
    text = yaml.safe_dump({**BASE, "components": components, "organization": ORG})
    rules = [r for r in generate_central(parse_spec(text, "big.yaml")).to_dict()["Resources"].values()
             if r["Type"] == "AWS::Events::Rule" and r["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]]
    assert len(rules) == 4  # ALARM and resolved, critical and (alert path) ... per severity, not per component
    assert all("Component: any component" in r["Properties"]["Targets"][0]["InputTransformer"]["InputTemplate"] for r in rules)


def test_generate_central_without_organization_is_a_located_error(runner, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(), encoding="utf-8")
    done = runner.invoke(main, ["generate", str(path), "--central"])
    assert done.exit_code == 1
    assert f"{path}:1:1: organization: --central needs an 'organization:' section (central_account, central_region, notifications)" in done.output


@pytest.mark.slow
def test_member_and_central_templates_pass_cfn_lint(tmp_path: Path) -> None:
    from cfnlint.api import lint_all

    from mlmon_cli.serialize import dump

    for name, tpl in (("member", member()), ("central", central())):
        errors = [m for m in lint_all(dump(tpl, "yaml")) if str(m.rule.id).startswith("E")]
        assert not errors, (name, [str(e) for e in errors])


# --- plan ---------------------------------------------------------------------------------------

def test_plan_shows_targets_and_the_bill_per_instance_and_in_total(runner, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(ORG), encoding="utf-8")
    done = runner.invoke(main, ["plan", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)
    deployment = plan["deployment"]
    assert deployment["instances"] == 4
    assert deployment["bill_per_instance"] == plan["bill"]["total"]
    assert deployment["total"] == round(4 * plan["bill"]["total"] + deployment["central_bill"], 2)
    assert deployment["targets"] == [{"accounts": MEMBERS, "regions": ["eu-west-1", "us-east-1"], "parameters": {}, "instances": 4}]
    markdown = runner.invoke(main, ["plan", str(path)]).stdout
    assert "## Deployment targets" in markdown and "| 222222222222, 333333333333 | eu-west-1, us-east-1 | - | 4 |" in markdown


# --- StackSet deploy and delete (Stubber: service-managed permissions, per-instance results) -------

def stubbed(monkeypatch) -> Stubber:
    aws = Aws(Target(region="eu-west-1"))
    cfn = aws.client("cloudformation")
    monkeypatch.setattr(stackset, "Aws", lambda target: aws)
    return Stubber(cfn)


def test_service_managed_deploy_to_ous_with_auto_deployment_and_per_instance_report(monkeypatch) -> None:
    stub = stubbed(monkeypatch)
    group = stackset.InstanceGroup(("eu-west-1",), organizational_units=("ou-ab12-cdef3456",))
    request = stackset.StackSetRequest("churn", (group,), Target(region="eu-west-1"), max_concurrent_percentage=50,
                                       failure_tolerance_percentage=10, call_as="DELEGATED_ADMIN", poll_seconds=0)
    template = member()
    stub.add_client_error("describe_stack_set", "StackSetNotFoundException", expected_params={"StackSetName": "churn", "CallAs": "DELEGATED_ADMIN"})
    stub.add_response("create_stack_set", {"StackSetId": "churn:1"}, {
        "StackSetName": "churn", "Capabilities": ["CAPABILITY_IAM"], "Parameters": [], "CallAs": "DELEGATED_ADMIN",
        "TemplateBody": ANY, "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False}})
    stub.add_response("list_stack_instances", {"Summaries": []}, {"StackSetName": "churn", "CallAs": "DELEGATED_ADMIN"})
    prefs = {"RegionConcurrencyType": "PARALLEL", "MaxConcurrentPercentage": 50, "FailureTolerancePercentage": 10}
    stub.add_response("create_stack_instances", {"OperationId": "op-1"}, {
        "StackSetName": "churn", "Regions": ["eu-west-1"], "OperationPreferences": prefs, "CallAs": "DELEGATED_ADMIN",
        "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-cdef3456"]}})
    stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": "op-1", "Status": "RUNNING"}})
    stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": "op-1", "Status": "SUCCEEDED"}})
    stub.add_response("list_stack_set_operation_results", {"Summaries": [
        {"Account": "222222222222", "Region": "eu-west-1", "Status": "SUCCEEDED"},
        {"Account": "333333333333", "Region": "eu-west-1", "Status": "SUCCEEDED"}]},
        {"StackSetName": "churn", "OperationId": "op-1", "CallAs": "DELEGATED_ADMIN"})
    log: list[str] = []
    with stub:
        result = stackset.deploy_stack_set(template, {}, request, log.append)
    stub.assert_no_pending_responses()
    assert stackset.report_lines(result) == ["222222222222\teu-west-1\tSUCCEEDED", "333333333333\teu-west-1\tSUCCEEDED"]
    assert "mlmon: created StackSet churn (service-managed permissions)" in log


def test_update_then_only_missing_instances_with_parameter_overrides(monkeypatch) -> None:
    stub = stubbed(monkeypatch)
    template = {**member(), "Parameters": {"Stage": {"Type": "String", "Default": "dev"}}}
    group = stackset.InstanceGroup(("eu-west-1", "us-east-1"), accounts=tuple(MEMBERS), parameters=(("Stage", "prod"),))
    request = stackset.StackSetRequest("churn", (group,), Target(region="eu-west-1"), execution_role_name="AWSCloudFormationStackSetExecutionRole",
                                       poll_seconds=0)
    stub.add_response("describe_stack_set", {"StackSet": {"StackSetName": "churn", "Status": "ACTIVE"}})
    stub.add_response("update_stack_set", {"OperationId": "op-u"}, {
        "StackSetName": "churn", "Capabilities": ["CAPABILITY_IAM"], "Parameters": [], "CallAs": "SELF", "TemplateBody": ANY,
        "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole", "OperationPreferences": {"RegionConcurrencyType": "PARALLEL"}})
    stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": "op-u", "Status": "SUCCEEDED"}})
    stub.add_response("list_stack_set_operation_results", {"Summaries": [
        {"Account": MEMBERS[0], "Region": "eu-west-1", "Status": "SUCCEEDED"}]})
    stub.add_response("list_stack_instances", {"Summaries": [{"Account": MEMBERS[0], "Region": "eu-west-1"}]})
    stub.add_response("create_stack_instances", {"OperationId": "op-c"}, {
        "StackSetName": "churn", "Regions": ["eu-west-1", "us-east-1"], "OperationPreferences": {"RegionConcurrencyType": "PARALLEL"},
        "CallAs": "SELF", "Accounts": MEMBERS, "ParameterOverrides": [{"ParameterKey": "Stage", "ParameterValue": "prod"}]})
    stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": "op-c", "Status": "FAILED",
                                                                            "StatusReason": "1 instance failed"}})
    stub.add_response("list_stack_set_operation_results", {"Summaries": [
        {"Account": MEMBERS[1], "Region": "us-east-1", "Status": "FAILED", "StatusReason": "Account 333333333333 should have "
         "'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role 'AWSCloudFormationStackSetAdministrationRole'."}]})
    with stub, pytest.raises(AwsError) as info:
        stackset.deploy_stack_set(template, {}, request, lambda _: None)
    assert info.value.exit_code == 5
    assert str(info.value) == ("mlmon: StackSet churn: 1 instance(s) failed:\n  333333333333 us-east-1: FAILED: Account 333333333333 "
                               "should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship to Role "
                               "'AWSCloudFormationStackSetAdministrationRole'.")


def test_nested_stacks_need_a_custom_execution_role_before_any_call() -> None:
    group = stackset.InstanceGroup(("eu-west-1",), accounts=(MEMBERS[0],))
    request = stackset.StackSetRequest("big", (group,))
    with pytest.raises(AwsUsageError) as info:
        stackset.check_provisionable({"Resources": {}}, {"monitoring-0": {}}, request)
    assert str(info.value).startswith("mlmon: --stack-set: the template has 1 nested stacks, which the default StackSet execution role "
                                      "cannot provision: create a custom execution role named stacksets-exec-custom-<name>")
    stackset.check_provisionable({"Resources": {}}, {"monitoring-0": {}},
                                 stackset.StackSetRequest("big", (group,), execution_role_name="stacksets-exec-custom-mlmon"))
    ous = stackset.StackSetRequest("big", (stackset.InstanceGroup(("eu-west-1",), organizational_units=("ou-ab12-cdef3456",)),))
    with pytest.raises(AwsUsageError, match="service-managed StackSets .OUs. use the default role"):
        stackset.check_provisionable({"Resources": {}, "Transform": "AWS::Serverless-2016-10-31"}, {}, ous)


def test_delete_lists_every_instance_then_removes_the_stack_set(monkeypatch) -> None:
    stub = stubbed(monkeypatch)
    stub.add_response("list_stack_instances", {"Summaries": [
        {"Account": MEMBERS[0], "Region": "eu-west-1"}, {"Account": MEMBERS[1], "Region": "eu-west-1"},
        {"Account": MEMBERS[0], "Region": "us-east-1"}]})
    for op, region, accounts in (("d1", "eu-west-1", MEMBERS), ("d2", "us-east-1", [MEMBERS[0]])):
        stub.add_response("delete_stack_instances", {"OperationId": op}, {
            "StackSetName": "churn", "Regions": [region], "RetainStacks": False, "CallAs": "SELF", "Accounts": accounts})
        stub.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": op, "Status": "SUCCEEDED"}})
        stub.add_response("list_stack_set_operation_results", {"Summaries": []})
    stub.add_response("delete_stack_set", {}, {"StackSetName": "churn", "CallAs": "SELF"})
    log: list[str] = []
    with stub:
        stackset.delete_stack_set("churn", Target(region="eu-west-1"), (), log.append, poll_seconds=0)
    stub.assert_no_pending_responses()
    assert log[-1] == "mlmon: deleted StackSet churn"


def test_stack_set_usage_errors(runner, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(), encoding="utf-8")
    cases = [
        (["deploy", str(path), "--stack-set", "x"], "mlmon: --stack-set: no targets: give --accounts/--organizational-units and "
                                                     "--regions, or list them under organization.targets in the spec"),
        (["deploy", str(path), "--stack-set", "x", "--accounts", "1234", "--regions", "eu-west-1"],
         "mlmon: --accounts: '1234' is not a 12-digit AWS account ID"),
        (["deploy", str(path), "--stack-set", "x", "--stack-name", "y"], "mlmon: --stack-set excludes --stack-name, --central and --no-execute"),
        (["deploy", str(path)], "mlmon: deploy needs --stack-name (or --stack-set)"),
        (["deploy", str(path), "--stack-name", "y", "--regions", "eu-west-1"],
         "mlmon: --accounts, --regions and --organizational-units need --stack-set"),
        (["delete", "--yes"], "mlmon: delete needs --stack-name or --stack-set (one of them)"),
    ]
    for args, message in cases:
        done = runner.invoke(main, args)
        assert done.exit_code == 2, (args, done.output)
        assert message in done.output, (args, done.output)


def test_readme_documents_org_scale() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Across accounts and Regions" in readme
    for command in ("mlmon deploy SPEC --stack-set", "mlmon deploy SPEC --central --stack-name", "mlmon delete --stack-set"):
        assert command in readme, command


def test_split_output_forwards_from_every_nested_stack() -> None:
    components = [{"kind": "glue_job", "name": f"job{i}", "job_name": f"job-{i}"} for i in range(60)]
    text = yaml.safe_dump({**BASE, "components": components, "organization": ORG})
    result = generate(parse_spec(text, "split.yaml"), split=True)
    assert result.nested
    for stem, nested in result.nested.items():
        resources = nested.to_dict()["Resources"]
        rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
        assert rules, stem
        assert "CentralForwardRole" in resources, stem  # the targets' role lives beside them
        assert all(r["Properties"]["Targets"][-1]["Id"] == "CentralBus" for r in rules), stem
    root = result.template.to_dict()["Resources"]
    names = root["CentralForwardAlarms"]["Properties"]["EventPattern"]["detail"]["alarmName"]
    assert len(names) >= 60  # the paging alarms of every nested stack, forwarded from the root
