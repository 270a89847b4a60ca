"""Issue 10 in LocalStack: monitor the solution you already have.

- five corpus templates (SAM, JSON, unnamed resources, parameter-named resources, a Condition):
  `mlmon init --from-template` -> `mlmon deploy` of the merged template; a breached alarm of
  each reaches an SQS subscriber of the topic, and the alarm's dimension is the physical name
  CloudFormation gave the resource;
- two environments of one spec deploy into one account, and an alarm of each notifies only its
  own recipients;
- `mlmon init --from-stack` against a deployed stack writes a spec whose template deploys.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from mlmon_cli.spec.app_template import load_app_template
from tests.e2e.conftest import REPORT
from tests.e2e.helpers import Account, Inbox, alarm_notifications
from tests.e2e.localstack import REPO_ROOT

ACCOUNT = "250000000001"
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "templates"
# template stem prefix -> (what it covers, stack parameters without defaults)
CASES = {
    "t27": ("SAM, unnamed state machine", {}),
    "t30": ("JSON, CodeBuild projects named from ${AWS::StackName}", {}),
    "t03": ("SageMaker pipeline named from parameters", {"SageMakerProjectName": "proj", "SageMakerProjectId": "p1",
                                                        "ModelExecutionRoleArn": "arn:aws:iam::250000000001:role/x"}),
    "t20": ("state machine named from parameters", {"PipelineName": "pipe", "SagerMakerRoleArn": "arn:aws:iam::250000000001:role/x",
                                                    "WorkflowExecutionRoleArn": "arn:aws:iam::250000000001:role/x",
                                                    "TargetEnv": "dev"}),
    "t05": ("async SageMaker endpoint named from parameters", {"SageMakerProjectName": "proj", "SageMakerProjectId": "p1",
                                                               "ModelExecutionRoleArn": "arn:aws:iam::250000000001:role/x"}),
}
# The corpus templates whose watched resources... none carries a Condition, and those with Conditions
# (t08, t23, t24) need services LocalStack's community edition lacks; a Condition on a watched
# resource is proven on tests/data/app/app.yaml (SAM, unnamed + parameter-named functions) below.
APP = REPO_ROOT / "tests" / "data" / "app" / "conditional.yaml"
_CHILD = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


def _template(path: Path) -> dict:
    return load_app_template(path, str(path)).data


def _defaults(app: dict) -> dict[str, str]:
    """A value for every parameter without a default (Number -> 1, AllowedValues -> the first)."""
    out = {}
    for name, p in (app.get("Parameters") or {}).items():
        if "Default" not in p:
            out[name] = str((p.get("AllowedValues") or ["1" if p.get("Type") == "Number" else "mlmon1"])[0])
    return out


def physical(value: object, stack: str) -> str:
    """A name of merged output as deployed: mlmon derives its physical names from the stack name."""
    text = value.get("Fn::Sub") if isinstance(value, dict) else value
    assert isinstance(text, str), value
    return text.replace("${AWS::StackName}", stack)


def _breach_reaches_subscriber(account: Account, stack: str, merged: dict, inbox: Inbox, component_id: str) -> str:
    """Put one child alarm of the component's critical composite into ALARM; wait for the composite's message."""
    composite = merged["Resources"][f"{component_id}CriticalComposite"]["Properties"]
    child_id = _CHILD.findall(json.dumps(composite["AlarmRule"]))[0]
    child = physical(merged["Resources"][child_id]["Properties"]["AlarmName"], stack)
    cw = account.client("cloudwatch")
    inbox.drain()
    cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="mlmon e2e: breached")
    name = physical(composite["AlarmName"], stack)
    seen = inbox.collect(lambda m: any(k[0] == name and k[2] == "ALARM" for k in alarm_notifications(m)), timeout=30)
    got = alarm_notifications(seen)
    assert any(k[0] == name and k[2] == "ALARM" for k in got), (stack, name, got)
    return name


@pytest.fixture(scope="module")
def account(localstack) -> Account:
    return Account(localstack, ACCOUNT)


@pytest.mark.parametrize("prefix", list(CASES))
def test_merged_corpus_template_deploys_and_alarms_reach_a_subscriber(account: Account, tmp_path: Path, prefix: str) -> None:
    (path,) = sorted(CORPUS.glob(f"{prefix}_*"))
    covers, params = CASES[prefix]
    started = time.monotonic()
    spec = tmp_path / "spec.yaml"
    result = account.mlmon(tmp_path, "init", "--from-template", str(path), "-o", str(spec))
    assert result.exit_code == 0, result.stderr
    result = account.mlmon(tmp_path, "generate", str(spec), "-o", str(tmp_path / "merged.json"))
    assert result.exit_code == 0, result.stderr
    merged = json.loads((tmp_path / "merged.json").read_text())
    stack = f"existing-{prefix}"
    args = ["deploy", str(spec), "--stack-name", stack, "--s3-bucket", account.bucket(f"existing-{prefix}-templates")]
    for key, value in {**_defaults(_template(path)), **params}.items():
        args += ["--parameter", f"{key}={value}"]
    result = account.mlmon(tmp_path, *args)
    assert result.exit_code == 0, result.stderr + result.stdout
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    inbox = Inbox(account, [outputs["AlertTopicArn"]], f"existing-{prefix}")
    watched = yaml.safe_load(spec.read_text())["components"]
    first = watched[0]
    component_id = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", first["name"]) if w)
    notified = _breach_reaches_subscriber(account, stack, merged, inbox, component_id)
    # the alarm watches the resource CloudFormation created, whatever its physical name
    physical = account.client("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=first["resource"])["StackResourceDetail"]["PhysicalResourceId"]
    alarms = account.client("cloudwatch").describe_alarms(AlarmNamePrefix=notified.rsplit("-", 1)[0] + "-")["MetricAlarms"]
    values = {d["Value"] for a in alarms for d in a.get("Dimensions", [])}
    assert any(physical in v or v in physical for v in values), (physical, values)
    REPORT.setdefault("existing templates (issue 10)", {})[path.name] = (
        f"{covers}: {len(watched)} watched, deployed and notified via {notified} in {time.monotonic() - started:.0f} s")
    account.client("cloudformation").delete_stack(StackName=stack)


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_monitoring_of_a_conditional_resource_follows_its_condition(account: Account, tmp_path: Path, stage: str) -> None:
    (tmp_path / "app.yaml").write_text(APP.read_text())
    spec = tmp_path / "spec.yaml"
    assert account.mlmon(tmp_path, "init", "--from-template", str(tmp_path / "app.yaml"), "-o", str(spec)).exit_code == 0
    assert account.mlmon(tmp_path, "generate", str(spec), "-o", str(tmp_path / "merged.json")).exit_code == 0
    merged = json.loads((tmp_path / "merged.json").read_text())
    stack = f"conditional-{stage}"
    result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", stack, "--parameter", f"Stage={stage}")
    assert result.exit_code == 0, result.stderr + result.stdout
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    cfn = account.client("cloudformation")
    deployed = {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    conditional = {k for k, r in merged["Resources"].items() if r.get("Condition") == "IsProd"}
    assert "NightlyRetrainExecutionsFailedAlarm" in conditional
    assert (conditional <= deployed) if stage == "prod" else not (conditional & deployed)
    inbox = Inbox(account, [outputs["AlertTopicArn"]], stack)
    _breach_reaches_subscriber(account, stack, merged, inbox, "NightlyRetrain" if stage == "prod" else "Scoring")
    cfn.delete_stack(StackName=stack)


ENV_SPEC = """\
solution: envs
notifications: {emails: [oncall@example.com]}
components:
  - {kind: step_functions, name: train, state_machine_name: train-flow}
environments:
  dev: {notifications: {emails: [dev@example.com]}}
  prod: {}
"""


def test_two_environments_deploy_into_one_account_and_notify_their_own_recipients(account: Account, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(ENV_SPEC)
    inboxes, composites = {}, {}
    for env in ("dev", "prod"):
        result = account.mlmon(tmp_path, "deploy", str(spec), "--env", env, "--stack-name", f"envs-{env}")
        assert result.exit_code == 0, result.stderr
        outputs = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        inboxes[env] = Inbox(account, [outputs["AlertTopicArn"]], f"envs-{env}")
        composites[env] = f"envs-{env}-train-Critical"
    cw = account.client("cloudwatch")
    for env in ("dev", "prod"):
        for inbox in inboxes.values():
            inbox.drain()
        cw.set_alarm_state(AlarmName=f"envs-{env}-train-ExecutionsFailed", StateValue="ALARM", StateReason="e2e")
        mine = inboxes[env].collect(lambda m: bool(alarm_notifications(m)), timeout=30)
        assert {k[0] for k in alarm_notifications(mine)} == {composites[env]}
        other = inboxes["prod" if env == "dev" else "dev"].receive(wait=2)
        assert alarm_notifications(other) == {}
    subs = account.client("sns").list_subscriptions()["Subscriptions"]
    emails = {(s["TopicArn"].rsplit(":", 1)[1], s["Endpoint"]) for s in subs if s["Protocol"] == "email"}
    assert emails == {("envs-dev-alerts", "dev@example.com"), ("envs-prod-alerts", "oncall@example.com")}
    for env in ("dev", "prod"):
        account.client("cloudformation").delete_stack(StackName=f"envs-{env}")


APP_STACK = {
    "Resources": {
        "Flow": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::250000000001:role/sfn",
            "DefinitionString": json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})}},
        "Data": {"Type": "AWS::Logs::LogGroup"},
        "Jobs": {"Type": "AWS::SQS::Queue"},
    },
}


def test_init_from_stack_writes_a_spec_whose_template_deploys(account: Account, tmp_path: Path) -> None:
    cfn = account.client("cloudformation")
    cfn.create_stack(StackName="from-stack-app", TemplateBody=json.dumps(APP_STACK))
    cfn.get_waiter("stack_create_complete").wait(StackName="from-stack-app", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    arn = cfn.describe_stack_resource(StackName="from-stack-app", LogicalResourceId="Flow")["StackResourceDetail"]["PhysicalResourceId"]
    spec = tmp_path / "spec.yaml"
    result = account.mlmon(tmp_path, "init", "--from-stack", "from-stack-app", "-o", str(spec),
                           "--endpoint-url", account.localstack.endpoint_url)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "mlmon: 2 resource(s) watched, 1 not watched (listed as comments)\n"
    text = spec.read_text()
    assert text.startswith("# yaml-language-server: $schema=mlmon.schema.json\n# mlmon spec written by `mlmon init --from-stack")
    assert f"    state_machine_arn: '{arn}'   # Flow (AWS::StepFunctions::StateMachine)\n" in text
    assert "#   Data (AWS::Logs::LogGroup): a log group: give a component `log_group` to search it\n" in text
    queue = cfn.describe_stack_resource(StackName="from-stack-app", LogicalResourceId="Jobs")["StackResourceDetail"]
    name = queue["PhysicalResourceId"].rsplit("/", 1)[1]  # from its URL
    assert f"    queue_name: {name}   # Jobs (AWS::SQS::Queue)\n" in text, [t for t in text.splitlines() if "Jobs" in t]
    result = account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", "from-stack-monitoring")
    assert result.exit_code == 0, result.stderr
    alarm = account.client("cloudwatch").describe_alarms(AlarmNames=["from-stack-app-flow-ExecutionsFailed"])["MetricAlarms"]
    assert [d["Value"] for d in alarm[0]["Dimensions"]] == [arn]
    alarm = account.client("cloudwatch").describe_alarms(AlarmNames=["from-stack-app-jobs-OldestMessageAge"])["MetricAlarms"]
    assert alarm[0]["Dimensions"] == [{"Name": "QueueName", "Value": name}]
    for name in ("from-stack-monitoring", "from-stack-app"):
        cfn.delete_stack(StackName=name)
