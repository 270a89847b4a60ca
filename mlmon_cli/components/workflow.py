"""A Step Functions workflow that mlmon generates, resilient by construction, and monitored.

Each step retries its integration's transient errors (defaults below, overridable per workflow
and per step) and catches everything else (`States.ALL`, last and alone, `ResultPath: $.error`
so the input is kept): the `fallback_steps` run first if given, then a message naming the
workflow, step, error, cause and a console link goes to the solution's topic, and the execution
ends FAILED so the alarms below (the `step_functions` kind's metric alarms) fire. The template gets the state
machine (Definition as a mapping plus DefinitionSubstitutions, so cfn-lint checks it) and a role
allowing exactly what the steps touch: deploy with `--capabilities CAPABILITY_IAM`.

```yaml
- kind: workflow
  name: retraining
  retry: {max_attempts: 3}                # every step; a step's own `retry:` wins
  steps:
    - name: Features
      glue_job_run: {job_name: churn-features}
    - name: Train
      sagemaker_training: {name_prefix: churn-train-, role_arn: 'arn:aws:iam::123456789012:role/sm', parameters: {...}}
      retry: {interval_seconds: 30}
    - name: Publish
      parallel:                           # branches: lists of steps
        - [{name: Report, lambda_invoke: {function_name: churn-report}}]
        - [{name: Pause, wait: {seconds: 60}}]
```

A step is `name` (unique in the workflow, at most 64 characters) plus exactly one step type key,
and optionally `retry` and `result_path` (where the step's result goes, e.g. `$.train`; by
default it goes to `$.lastResult`, which the next such step overwrites, and the step's input passes
on; CloudFormation templates cannot carry ASL's `ResultPath: null`). A state whose input is not a JSON
object cannot keep it when caught: the catcher then fails with States.Runtime, which still fails
the execution. SageMaker names are `<name_prefix><execution name>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar

from .. import naming
from ..errors import Location
from ..limits import EXPRESS_MAX_SECONDS
from ..spec.fields import doc, fields_table
from ..workflow.model import (
    PARALLEL,
    RetryOverride,
    Step,
    parse_retry,
    parse_steps,
    walk,
)
from ..workflow.steps import STEP_TYPES
from . import _staleness, component
from .base import AlarmTarget, BuildEnv, Component, ExtraAlarm, NameOption
from .step_functions import METRIC_ALARMS, StepFunctions, success_alarms
from .step_functions import STATE_MACHINE_NAME as SFN_STATE_MACHINE_NAME

STATE_MACHINE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
LOG_RETENTION_DAYS = 365  # CT.CLOUDWATCH.PR.2 requires at least a year (or never expire)


@dataclass(frozen=True)
class WorkflowOptions:
    steps: tuple[Step, ...] = field(metadata=doc("The steps, in order (see the step types below).", parse=parse_steps, type="list of steps"))
    state_machine_name: str | None = field(default=None, metadata=doc("Name of the generated state machine (default `<solution>-<name>`)."))
    type: str = field(default="STANDARD", metadata=doc(
        "STANDARD, or EXPRESS (at most 5 minutes, and no step that waits for a job).", choices=("STANDARD", "EXPRESS")))
    timeout_seconds: int | None = field(default=None, metadata=doc(
        "Execution timeout (an ExecutionsTimedOut alarm watches it).", unit="s", minimum=1, maximum=31_536_000))
    retry: RetryOverride | None = field(default=None, metadata=doc(
        "Retry overrides for every step: `interval_seconds`, `max_attempts`, `backoff_rate`, `max_delay_seconds`, `jitter`.",
        parse=parse_retry, type="mapping"))
    fallback: str | None = field(default=None, metadata=doc(
        "The fallback step to start from (default: the first); it and the ones after it run before the notification."))
    fallback_steps: tuple[Step, ...] = field(default=(), metadata=doc(
        "Steps run when a step fails, before the notification (e.g. revert the endpoint).", parse=parse_steps, type="list of steps"))
    expect_success_within_hours: int | None = _staleness.option("execution")


@component("workflow")
class Workflow(Component[WorkflowOptions]):
    """Resources and alarms of one generated workflow.

    build.py creates one instance per component and calls `resources` (which has the names)
    before `targets`/`watched`, so the instance keeps the BuildEnv it was given.
    """

    Options = WorkflowOptions
    title = "Generated AWS Step Functions workflow"
    docs_url = StepFunctions.docs_url
    dimension_names = StepFunctions.dimension_names
    log_groups_use_alert_key = True  # the state machine's execution log group (CT.CLOUDWATCH.PR.3)
    names: ClassVar[Mapping[str, NameOption]] = {
        "state_machine_name": replace(SFN_STATE_MACHINE_NAME, instead_of_arn="the name of the state machine mlmon creates"),
    }
    # The step_functions kind's metric alarms on the generated machine; not its failure-event rule:
    # the workflow's own fallback already sends a readable message.
    alarms = METRIC_ALARMS
    env: BuildEnv | None = None

    def machine_name(self, o: WorkflowOptions) -> str:
        if o.state_machine_name:
            return o.state_machine_name
        assert self.env is not None, "resources() must run first"
        return naming.state_machine_name(self.env.solution, self.env.component)

    def resources(self, o: WorkflowOptions, env: BuildEnv) -> list[Any]:
        from troposphere import GetAtt
        from troposphere.logs import LogGroup
        from troposphere.stepfunctions import (
            CloudWatchLogsLogGroup,
            LogDestination,
            LoggingConfiguration,
            StateMachine,
            TracingConfiguration,
        )

        from ..workflow.asl import build_definition
        from ..workflow.iam import role

        self.env = env
        name = self.machine_name(o)
        role_id = env.logical_id("StateMachineRole")
        comment = f"Generated by mlmon ({env.solution}/{env.component}): each step retries transient errors; any other error notifies and fails."
        # AWS Control Tower CT.STEPFUNCTIONS.PR.1/PR.2: logging (ERROR, without execution data) and
        # X-Ray tracing; the log group is kept a year (CT.CLOUDWATCH.PR.2) and encrypted with the
        # solution's key (CT.CLOUDWATCH.PR.3).
        logs_id = env.logical_id("StateMachineLogs")
        logs = LogGroup(logs_id, LogGroupName=naming.workflow_log_group_name(name), RetentionInDays=LOG_RETENTION_DAYS,
                        KmsKeyId=GetAtt(naming.ALERTS_KEY_ID, "Arn"))
        machine = StateMachine(
            env.logical_id("StateMachine"),
            StateMachineName=name,
            StateMachineType=o.type,
            RoleArn=GetAtt(role_id, "Arn"),
            Definition=build_definition(o, name, comment),
            DefinitionSubstitutions={naming.ALERT_TOPIC_SUBSTITUTION: env.topic},
            LoggingConfiguration=LoggingConfiguration(
                Level="ERROR", IncludeExecutionData=False,
                Destinations=[LogDestination(CloudWatchLogsLogGroup=CloudWatchLogsLogGroup(LogGroupArn=GetAtt(logs_id, "Arn")))]),
            TracingConfiguration=TracingConfiguration(Enabled=True),
        )
        return [role(role_id, o.steps + o.fallback_steps, env.topic, env.solution, f"Runs the {name} state machine's steps (mlmon)"),
                logs, machine]

    def targets(self, o: WorkflowOptions) -> list[AlarmTarget]:
        from troposphere import Ref

        assert self.env is not None, "resources() must run first"
        return [AlarmTarget({"StateMachineArn": Ref(self.env.logical_id("StateMachine"))})]  # Ref returns the ARN

    def watched(self, o: WorkflowOptions) -> str:
        return f"generated state machine {self.machine_name(o)}"

    def extra_alarms(self, o: WorkflowOptions, env: BuildEnv) -> list[ExtraAlarm]:
        return success_alarms(o.expect_success_within_hours, self.targets(o))

    @classmethod
    def reference_markdown(cls) -> str:
        """Step types, their keys and default retriers, for the README (docs.py)."""
        from ..asl.retry_policies import POLICIES

        rows = ["| step type | what it does | keys (**required**) | default retry: errors, interval x backoff^n (cap), attempts, jitter |",
                "|---|---|---|---|"]
        for key, st in STEP_TYPES.items():
            keys = ", ".join(f"**`{f.name}`**" if f.default is MISSING else f"`{f.name}`" for f in fields(st.Params))
            retry = "<br>".join(
                f"{', '.join(r.error_equals)}: {r.interval_seconds} s x {r.backoff_rate:g}^n (max {r.max_delay_seconds} s), "
                f"{r.max_attempts} attempts, {r.jitter_strategy}" for r in POLICIES[st.policy].retriers) if st.policy else "none (calls no service)"
            rows.append(f"| `{key}` | {st.title}{' (STANDARD only)' if st.sync else ''} | {keys} | {retry} |")
        rows.append("| `parallel` | Run branches (lists of steps) at the same time | a list of branches | none: its steps retry |")
        used = dict.fromkeys(st.policy for st in STEP_TYPES.values() if st.policy)
        sources = "; ".join(f"`{POLICIES[k].name}`: {POLICIES[k].source}" for k in used)
        return ("Step types (the key that gives a step its type; each step type's keys are checked like options):\n\n"
                + "\n".join(rows) + "\n\nSources of the retry defaults (tags explained in `mlmon_cli/asl/retry_policies.py`, "
                "shared with `mlmon harden`): " + sources + ".\n\n`retry` (per workflow and per step; replaces the field in every "
                "retrier of the step):\n\n" + fields_table(RetryOverride))

    def check(self, o: WorkflowOptions) -> list[tuple[Any, str]]:
        found: list[tuple[Any, str]] = []
        if o.state_machine_name is not None and not STATE_MACHINE_NAME.match(o.state_machine_name):
            found.append(("state_machine_name", "at most 80 letters, digits, '-' and '_'"))
        seen: dict[str, Location] = {}
        for step in sorted(walk(o.steps + o.fallback_steps), key=lambda s: (s.location.line, s.location.column)):
            if step.name in seen:
                first = seen[step.name]
                found.append((step.at["name"], f"step name '{step.name}' is also used on line {first.line}"))
            seen.setdefault(step.name, step.at["name"])
        names = [s.name for s in o.fallback_steps]
        if o.fallback is not None and o.fallback not in names:
            hint = f": one of {', '.join(names)}" if names else ": list it under 'fallback_steps'"
            found.append(("fallback", f"'{o.fallback}' is not a fallback step{hint}"))
        elif o.fallback is not None and names.index(o.fallback) > 0:
            found.append(("fallback", f"the fallback steps before '{o.fallback}' would never run; move them after it or remove them"))
        found += _fallback_checks(o.fallback_steps)
        if o.type == "EXPRESS":
            found += _express_checks(o)
        return found


def _fallback_checks(steps: tuple[Step, ...]) -> list[tuple[Any, str]]:
    return [(s.at["result_path"], "a fallback step keeps its input for the notification: remove result_path")
            for s in steps if s.result_path]


def _express_checks(o: WorkflowOptions) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    for step in walk(o.steps + o.fallback_steps):
        if step.type != PARALLEL and STEP_TYPES[step.type].sync:
            found.append((step.at[step.type], "an EXPRESS workflow cannot wait for a job (.sync); use type: STANDARD"))
    if o.timeout_seconds is not None and o.timeout_seconds > EXPRESS_MAX_SECONDS:
        found.append(("timeout_seconds", f"an EXPRESS workflow runs at most {EXPRESS_MAX_SECONDS} seconds"))
    return found
