"""`mlmon diff` and `mlmon coverage` against LocalStack: a state machine and a Lambda function
watched by a deployed spec, drift made outside mlmon, resources nobody watches, a split output.

What LocalStack 4.14 cannot show (ListMetrics data, EvaluationState, FailedInvocations, drift-aware
change sets) is proven with Stubber fixtures in tests/test_live.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from mlmon_cli.aws.deploy import DeployRequest, deploy_template
from mlmon_cli.aws.session import Target
from mlmon_cli.core.pipeline import generate, load_path
from tests.e2e.helpers import Account

ACCOUNT = "260000000001"
SPLIT_ACCOUNT = "260000000002"
GHOST_ACCOUNT = "260000000004"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
SPEC = """\
solution: live
notifications:
  lambda_arns: [arn:aws:lambda:us-east-1:{account}:function:live-notify]
components:
  - kind: step_functions
    name: nightly
    state_machine_name: live-nightly
  - kind: lambda
    name: prep
    function_name: live-prep
    timeout_seconds: 60
"""


def _resources(account: Account, *, state_machines: list[str], functions: list[str]) -> None:
    role = account.client("iam").create_role(RoleName=f"live-{len(state_machines)}-{len(functions)}",
                                             AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in state_machines:
        account.client("stepfunctions").create_state_machine(name=name, definition=DEFINITION, roleArn=role)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    for name in functions:
        account.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                                                  Code={"ZipFile": code.getvalue()})


def _app_stack(account: Account, stack: str, state_machine: str) -> None:
    """An application stack someone else deployed, holding one state machine."""
    template = {"Resources": {"Flow": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "StateMachineName": state_machine, "RoleArn": f"arn:aws:iam::{account.id}:role/app", "DefinitionString": DEFINITION}}}}
    cfn = account.client("cloudformation")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def _spec(tmp_path: Path, account: Account) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(SPEC.format(account=account.id))
    return path


def _cli(account: Account, tmp_path: Path, *args: str):
    return account.mlmon(tmp_path, *args, "--endpoint-url", account.localstack.endpoint_url)


@pytest.fixture(scope="module")
def deployed(localstack, tmp_path_factory) -> tuple[Account, Path]:
    account = Account(localstack, ACCOUNT)
    tmp = tmp_path_factory.mktemp("live")
    _resources(account, state_machines=["live-nightly"], functions=["live-prep", "live-notify"])
    spec = _spec(tmp, account)
    result = account.mlmon(tmp, "deploy", str(spec), "--stack-name", "live")
    assert result.exit_code == 0, result.stderr
    return account, spec


def test_diff_and_coverage_against_localstack(deployed, tmp_path) -> None:
    account, spec = deployed
    clean = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "live")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert clean.stdout == ""
    assert "deployed equals generated, nothing dead" in clean.stderr
    assert "not run yet, not dead" in clean.stderr  # the state machine and function exist and never ran

    cw, events = account.client("cloudwatch"), account.client("events")
    errors = cw.describe_alarms(AlarmNames=["live-prep-Errors"])["MetricAlarms"][0]
    keep = ("AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "MetricName", "Namespace", "Statistic", "Dimensions",
            "Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "TreatMissingData")
    cw.put_metric_alarm(**{k: errors[k] for k in keep if k in errors}, Threshold=5)  # raised in the console during an incident
    cw.disable_alarm_actions(AlarmNames=["live-nightly-ExecutionsFailed"])
    cw.delete_alarms(AlarmNames=["live-prep-Throttles"])
    events.disable_rule(Name="live-nightly-ExecutionFailedEvent")

    drifted = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "live")
    assert drifted.exit_code == 7, drifted.stdout + drifted.stderr
    assert drifted.stdout.splitlines() == [
        "actions-disabled: alarm live-nightly-ExecutionsFailed: ActionsEnabled is false: the alarm changes state but notifies nobody",
        "changed: alarm live-prep-Errors: Threshold: 1 -> 5 (spec -> deployed)",
        "missing: alarm live-prep-Throttles: deleted outside CloudFormation (stack live still lists it as PrepThrottlesAlarm)",
        "rule-disabled: rule live-nightly-ExecutionFailedEvent: State is DISABLED: the rule matches nothing and delivers nothing",
    ]
    as_json = json.loads(_cli(account, tmp_path, "diff", str(spec), "--stack-name", "live", "--format", "json").stdout)
    assert sorted(f["kind"] for f in as_json["findings"]) == ["actions-disabled", "changed", "missing", "rule-disabled"]
    assert all(f["first_step"] for f in as_json["findings"])

    _resources(account, state_machines=["live-orphan"], functions=["live-stray"])
    _app_stack(account, "live-app", "live-app-flow")
    report = _cli(account, tmp_path, "coverage", "--kind", "step_functions", "--kind", "lambda")
    assert report.exit_code == 7, report.stdout + report.stderr
    named = [line.split()[0] for line in report.stdout.splitlines() if line.startswith("  ") and not line.startswith("    ")]
    assert sorted(named) == ["live-app-flow", "live-notify", "live-orphan", "live-stray"]  # live-nightly and live-prep are watched
    assert "Step Functions state machines (step_functions): 2 of 3 not watched" in report.stdout
    assert "  live-app-flow  (stack live-app)\n    start: mlmon init --from-stack live-app --region us-east-1" in report.stdout
    assert f'state_machine_arn: "arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:live-orphan"' in report.stdout
    markdown = _cli(account, tmp_path, "coverage", "--kind", "step_functions", "--format", "markdown")
    assert markdown.exit_code == 7 and "| `live-orphan` | - |" in markdown.stdout and "live-nightly" not in markdown.stdout
    monitoring = _cli(account, tmp_path, "coverage", "--stack-name", "live", "--kind", "step_functions", "--format", "json")
    assert monitoring.exit_code == 0, monitoring.stderr  # the monitoring stack holds no state machine
    assert json.loads(monitoring.stdout)["unwatched"] == []
    app = _cli(account, tmp_path, "coverage", "--stack-name", "live-app", "--kind", "step_functions", "--format", "json")
    assert app.exit_code == 7
    assert [(u["name"], u["stack"]) for u in json.loads(app.stdout)["unwatched"]] == [("live-app-flow", "live-app")]


def test_a_watched_resource_that_does_not_exist(localstack, tmp_path) -> None:
    account = Account(localstack, GHOST_ACCOUNT)
    _resources(account, state_machines=["live-nightly"], functions=["live-notify"])  # no live-prep
    spec = _spec(tmp_path, account)
    assert account.mlmon(tmp_path, "deploy", str(spec), "--stack-name", "ghost").exit_code == 0
    result = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "ghost", "--format", "json")
    assert result.exit_code == 7, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert {(f["kind"], f["name"]) for f in findings} == {
        ("resource-gone", "live-prep-Errors"), ("resource-gone", "live-prep-Throttles"), ("resource-gone", "live-prep-DurationP90")}
    assert all(f["detail"].startswith("Lambda function live-prep does not exist") for f in findings)
    assert "live-nightly-ExecutionsFailed" in json.loads(result.stdout)["quiet"]  # exists, never ran: not dead


def test_split_output_is_diffed_as_a_whole(localstack, tmp_path, monkeypatch) -> None:
    account = Account(localstack, SPLIT_ACCOUNT)
    bucket = account.bucket("live-split-templates")
    _resources(account, state_machines=["live-nightly"], functions=["live-prep", "live-notify"])
    spec = _spec(tmp_path, account)
    result = generate(load_path(spec), split=True)  # what `generate --split -o DIR` writes
    assert result.nested
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", account.id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    deployed = deploy_template(result.template.to_dict(),
                               DeployRequest("live-split", Target(region=account.region, endpoint_url=localstack.endpoint_url), s3_bucket=bucket),
                               lambda _line: None, nested={stem: t.to_dict() for stem, t in result.nested.items()})
    assert deployed.status == "CREATE_COMPLETE"
    clean = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "live-split")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert "checked 12 alarms, 1 rules, 2 topics, 1 subscriptions" in clean.stderr  # every nested stack's resources

    account.client("cloudwatch").disable_alarm_actions(AlarmNames=["live-prep-Errors"])
    drifted = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "live-split", "--format", "json")
    assert drifted.exit_code == 7
    findings = json.loads(drifted.stdout)["findings"]
    assert [(f["kind"], f["name"]) for f in findings] == [("actions-disabled", "live-prep-Errors")]
    assert findings[0]["stack"].startswith("live-split/")  # found inside a nested stack


def test_diff_of_a_stack_that_does_not_exist(localstack, tmp_path) -> None:
    account = Account(localstack, "260000000003")
    spec = _spec(tmp_path, account)
    result = _cli(account, tmp_path, "diff", str(spec), "--stack-name", "nowhere")
    assert result.exit_code == 5
    assert result.stderr.strip() == "mlmon: stack nowhere does not exist in us-east-1: deploy it first with mlmon deploy"
    with pytest.raises(ClientError):
        account.client("cloudformation").describe_stacks(StackName="nowhere")
