"""Generated workflows executed in moto's real ASL interpreter: retries, catch, fallback, alert, FAILED.

The Definition is taken from the generated template, its DefinitionSubstitutions are filled with
the ARNs of moto resources, and the state machine runs in moto 5.2.1 unpatched (tests/moto_sfn.py;
only the retrier's sleep records instead of waiting). Faults are injected in moto's AWS *backends*.

What moto 5.2.1 executes, and so what is tested here: SNS publish (success, transient and
permanent errors), Glue StartJobRun.sync up to the start call (transient and permanent errors:
its polling path always ends in States.Runtime, `callback_endpoint.interrupt_all()` on None),
Lambda invoke (failure only: a missing function fails before moto would need Docker), Wait,
Parallel, SageMaker CreateModel/CreateEndpointConfig (success only: moto names their errors
States.Runtime). Not executable, so covered by goldens and the checker only: SageMaker *.sync
jobs and CodeBuild .sync ("Unsupported sync callback"), SageMaker UpdateEndpoint (not implemented).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlmon_cli.asl import check_definition, harden_definition
from mlmon_cli.asl.harden import CONSOLE
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import load_spec, parse_spec

from .conftest import GOLDEN, SPECS
from .moto_sfn import ACCOUNT, REGION, sandbox  # noqa: F401 - fixture

pytestmark = pytest.mark.slow  # cfn-lint, moto, a subprocess or large specs: not in the fast loop

HEADER = "solution: churn\nnotifications: {emails: [oncall@example.com]}\ncomponents:\n  - kind: workflow\n    name: nightly\n"
MISSING_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:does-not-exist"


def machine(spec_text: str) -> tuple[str, str]:
    """(state machine name, definition JSON without substitutions) of the spec's only workflow."""
    template = build_template(parse_spec(HEADER + spec_text, "spec.yaml")).template.to_dict()
    (props,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert set(props["DefinitionSubstitutions"]) == {"AlertTopicArn"}
    return props["StateMachineName"], json.dumps(props["Definition"])


@pytest.fixture
def alerts(sandbox):
    """The solution's topic (with an SQS subscription) and a runner that substitutes it."""
    topic, queue = sandbox.topic_with_queue("churn-alerts")

    def run(spec_text: str, payload=None):
        name, definition = machine(spec_text)
        execution = sandbox.run(definition.replace("${AlertTopicArn}", topic), payload, name=name)
        return execution, sandbox.messages(queue)

    return run


def glue_job(sandbox, name: str = "churn-features") -> None:
    sandbox.glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl", "ScriptLocation": "s3://x/job.py"})


def fail_first(monkeypatch, cls, method: str, times: int, error) -> list[int]:
    """Make a moto backend method raise `error()` on its first `times` calls; returns the call log."""
    calls: list[int] = []
    original = getattr(cls, method)

    def flaky(self, *args, **kwargs):
        calls.append(len(calls))
        if len(calls) <= times:
            raise error()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, flaky)
    return calls


# ------------------------------------------------------------------------------------- retry
def test_transient_error_is_retried_with_the_configured_intervals_then_succeeds(sandbox, alerts, monkeypatch):
    from moto.sns.exceptions import InternalError
    from moto.sns.models import SNSBackend

    done_topic, done_queue = sandbox.topic_with_queue("churn-done")
    calls = fail_first(monkeypatch, SNSBackend, "publish", 3, lambda: InternalError("Internal error"))
    execution, messages = alerts(f"""    retry: {{max_attempts: 1}}
    steps:
      - name: Announce
        sns_publish: {{topic_arn: '{done_topic}', message: done}}
        retry: {{interval_seconds: 3, backoff_rate: 2.5, max_delay_seconds: 10, max_attempts: 4, jitter: NONE}}
""")
    assert execution.status == "SUCCEEDED", execution.desc
    assert len(calls) == 4  # three SNS.InternalErrorException, then the publish that succeeded
    assert sandbox.slept == [3, 7.5, 10]  # 3 x 2.5^n, the third capped by MaxDelaySeconds
    assert [e["taskFailedEventDetails"]["error"] for e in execution.events if "taskFailedEventDetails" in e] == [
        "SNS.InternalErrorException"] * 3
    assert sandbox.messages(done_queue) == ["done"] and messages == []


def test_transient_glue_error_exhausting_max_attempts_is_caught_and_alerted(sandbox, alerts, monkeypatch):
    from moto.glue.exceptions import ConcurrentRunsExceededException
    from moto.glue.models import GlueBackend

    glue_job(sandbox)
    calls = fail_first(monkeypatch, GlueBackend, "start_job_run", 99, lambda: ConcurrentRunsExceededException("Job already running"))
    execution, messages = alerts("""    retry: {interval_seconds: 5, backoff_rate: 1, max_attempts: 2, jitter: NONE}
    steps:
      - name: Features
        glue_job_run: {job_name: churn-features}
""")
    assert len(calls) == 3 and sandbox.slept == [5, 5]  # the workflow-level retry applies to the step
    assert execution.status == "FAILED" and len(messages) == 1
    assert "failed at state Features. Error: Glue.ConcurrentRunsExceededException" in messages[0]


def test_default_sns_retry_with_full_jitter_stays_within_bounds(sandbox, alerts, monkeypatch):
    from moto.sns.exceptions import InternalError
    from moto.sns.models import SNSBackend

    calls = fail_first(monkeypatch, SNSBackend, "publish", 2, lambda: InternalError("Internal error"))
    execution, messages = alerts("""    steps:
      - name: Announce
        sns_publish: {message: done}
""")
    assert execution.status == "SUCCEEDED" and len(calls) == 3
    assert len(sandbox.slept) == 2  # SNS.InternalErrorException retried: 1 s x 2^n, FULL jitter
    assert all(0 <= slept <= bound for slept, bound in zip(sandbox.slept, [1, 2]))
    assert messages == ["done"]  # the step itself publishes to the alert topic by default


# ------------------------------------------------------------------------------------- catch
PERMANENT = {
    "sns_publish": (f"sns_publish: {{topic_arn: '{MISSING_TOPIC}', message: hi}}", "SNS.NotFoundException"),
    "glue_job_run": ("glue_job_run: {job_name: no-such-job}", "Glue.EntityNotFoundException"),
    "lambda_invoke": ("lambda_invoke: {function_name: no-such-function}", "Lambda.ResourceNotFoundException"),
}


BROKEN = f"""    steps:
      - name: Broken step
        {PERMANENT["sns_publish"][0]}
"""


@pytest.mark.parametrize("step_type", sorted(PERMANENT))
def test_permanent_error_is_caught_alerted_and_the_execution_fails(step_type, sandbox, alerts):
    step, error = PERMANENT[step_type]
    execution, messages = alerts(f"""    steps:
      - name: Prepare
        wait: {{seconds: 1}}
      - name: Broken step
        {step}
""", {"week": 7})
    assert execution.status == "FAILED"
    assert execution.desc["error"] == "WorkflowFailed"
    assert execution.desc["cause"].startswith(f"{error} at state Broken step: ")
    assert sandbox.slept == []  # a permanent error is not retried
    assert execution.entered() == ["Prepare", "Broken step", "Broken step failed", "NotifyFailure", "ExecutionFailed"]
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:churn-nightly:run1"
    (message,) = messages
    assert message.startswith(f"Step Functions workflow churn-nightly failed at state Broken step. Error: {error}. Cause: ")
    assert message.endswith(f". Execution: {arn}. Console: {CONSOLE}{arn}")


def test_catch_keeps_the_input_for_the_fallback(sandbox, alerts):
    execution, _ = alerts(BROKEN, {"week": 7})
    failed = [e for e in execution.events if e.get("stateExitedEventDetails", {}).get("name") == "Broken step failed"]
    output = json.loads(failed[0]["stateExitedEventDetails"]["output"])
    assert output["week"] == 7 and output["failedState"] == "Broken step"
    assert output["error"]["Error"] == "SNS.NotFoundException" and output["error"]["Cause"]


def test_named_fallback_runs_before_the_alert(sandbox, alerts):
    revert_topic, revert_queue = sandbox.topic_with_queue("churn-revert")
    execution, messages = alerts(f"""    fallback: Revert
    fallback_steps:
      - name: Revert
        sns_publish: {{topic_arn: '{revert_topic}', message: reverting to the stable model}}
""" + BROKEN)
    assert execution.status == "FAILED"
    assert execution.entered() == ["Broken step", "Broken step failed", "Revert", "NotifyFailure", "ExecutionFailed"]
    assert sandbox.messages(revert_queue) == ["reverting to the stable model"]
    assert len(messages) == 1 and "failed at state Broken step. Error: SNS.NotFoundException" in messages[0]


def test_failing_fallback_still_alerts_the_original_error(sandbox, alerts):
    execution, messages = alerts(f"""    fallback_steps:
      - name: Revert
        sns_publish: {{topic_arn: '{MISSING_TOPIC}', message: reverting}}
""" + BROKEN)
    assert execution.status == "FAILED"
    assert execution.entered()[-3:] == ["Revert", "NotifyFailure", "ExecutionFailed"]
    assert len(messages) == 1 and "failed at state Broken step. Error: SNS.NotFoundException" in messages[0]


def test_parallel_branch_failure_alerts_once_with_the_original_error(sandbox, alerts):
    execution, messages = alerts("""    steps:
      - name: Fan out
        parallel:
          - [{name: Pause, wait: {seconds: 1}}]
          - [{name: Features, glue_job_run: {job_name: no-such-job}}]
""")
    assert execution.status == "FAILED"
    (message,) = messages
    assert "failed at state Fan out. Error: Glue.EntityNotFoundException" in message


def test_success_runs_every_step_and_sends_no_alert(sandbox, alerts):
    done_topic, done_queue = sandbox.topic_with_queue("churn-done")
    execution, messages = alerts(f"""    steps:
      - name: Model
        sagemaker_create_model:
          name_prefix: churn-model-
          role_arn: arn:aws:iam::123456789012:role/sm
          parameters: {{PrimaryContainer: {{Image: serve:1, ModelDataUrl: 's3://m/model.tar.gz'}}}}
        result_path: $.model
      - name: Config
        sagemaker_create_endpoint_config:
          name_prefix: churn-config-
          parameters:
            ProductionVariants: [{{VariantName: AllTraffic, ModelName.$: "States.Format('churn-model-{{}}', $$.Execution.Name)", InitialInstanceCount: 1, InstanceType: ml.m5.large}}]
      - name: Announce
        sns_publish: {{topic_arn: '{done_topic}', message: done}}
""", {"week": 7})
    assert execution.status == "SUCCEEDED", execution.desc
    assert messages == [] and sandbox.messages(done_queue) == ["done"]
    output = json.loads(execution.desc["output"])
    assert output["week"] == 7 and output["model"]["ModelArn"].endswith(":model/churn-model-run1")  # result_path keeps the input
    assert sandbox.sagemaker.describe_model(ModelName="churn-model-run1")["ExecutionRoleArn"].endswith("role/sm")
    config = sandbox.sagemaker.describe_endpoint_config(EndpointConfigName="churn-config-run1")
    assert config["ProductionVariants"][0]["ModelName"] == "churn-model-run1"


# ------------------------------------------------------------------------- every generated definition
WORKFLOW_SPECS = [p for p in SPECS + sorted(GOLDEN.glob("workflow_*/spec.yaml")) if "kind: workflow" in p.read_text()]


@pytest.mark.parametrize("spec_path", WORKFLOW_SPECS, ids=[f"{p.parent.name}/{p.name}" for p in WORKFLOW_SPECS])
def test_generated_definitions_pass_the_checker_and_are_already_hardened(spec_path: Path) -> None:
    template = build_template(load_spec(spec_path)).template.to_dict()
    machines = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert machines
    for props in machines:
        definition = props["Definition"]
        assert check_definition(definition) == []
        assert harden_definition(definition).changes == ()
        placeholders = set(re.findall(r"\$\{([^}]+)\}", json.dumps(definition)))
        assert placeholders == set(props["DefinitionSubstitutions"])
