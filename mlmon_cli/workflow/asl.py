"""Workflow spec -> ASL definition (JSONPath): every Task retries its transient errors and is caught.

The fallback path is the one `mlmon harden` adds (mlmon_cli/asl/harden.py builds its states), so a
generated definition is already hardened: harden finds nothing to change in it (tested).

    step --(Retry per policy)--> ... --Catch States.ALL, ResultPath $.error--> "<step> failed" (Pass)
      --> [fallback steps] --> NotifyFailure (SNS: workflow, step, error, cause, console link)
      --> ExecutionFailed (Fail): the execution still ends FAILED, so its alarms fire.

Steps inside parallel branches are caught into the branch's PropagateFailure, which re-raises the
error so the parallel step's own catcher notifies once. Fallback steps keep their input (no result)
and, if they fail, go straight to the notification (their error is kept at $.fallbackError).
"""

from __future__ import annotations

from typing import Any

from ..asl.harden import catch_all, failed_marker, failure_states, propagate_states
from ..asl.retry_policies import POLICIES
from .model import PARALLEL, RetryOverride, Step, walk
from .steps import ALERT_TOPIC, STEP_TYPES

JSONPATH = "JSONPath"
FALLBACK_ERROR = "$.fallbackError"


def retry_for(step: Step, *overrides: RetryOverride | None) -> list[dict[str, Any]]:
    """The step's policy from retry_policies.py, with workflow- then step-level overrides applied."""
    retriers = POLICIES[STEP_TYPES[step.type].policy].retriers
    for override in (*overrides, step.retry):
        if override is not None:
            retriers = tuple(override.apply(r) for r in retriers)
    return [asl for r in retriers if (asl := r.to_asl()) is not None]


def build_definition(o: Any, workflow_name: str, comment: str) -> dict[str, Any]:
    """The state machine definition for workflow options `o` (see components/workflow.py)."""
    names = {s.name for s in walk(o.steps + o.fallback_steps)}
    notify, failure = failure_states(JSONPATH, names, ALERT_TOPIC, workflow_name)
    fallback = _fallback_chain(o)
    states: dict[str, Any] = {}
    markers: dict[str, Any] = {}

    def on_error(step: Step) -> dict[str, Any]:
        marker, state = failed_marker(step.name, fallback[0].name if fallback else notify, names)
        markers[marker] = state
        return catch_all(step.name, JSONPATH, marker, top=True)

    _chain(states, o.steps, None, on_error, o.retry, names)
    fallback_catch = {"ErrorEquals": ["States.ALL"], "ResultPath": FALLBACK_ERROR, "Next": notify}
    _chain(states, fallback, notify, lambda step: dict(fallback_catch), o.retry, names, keep_input=True)
    definition: dict[str, Any] = {"Comment": comment, "StartAt": o.steps[0].name, "States": {**states, **markers, **failure}}
    if o.timeout_seconds:
        definition["TimeoutSeconds"] = o.timeout_seconds
    return definition


def _fallback_chain(o: Any) -> tuple[Step, ...]:
    """Fallback steps from the named one (default: the first) to the end of the list."""
    if not o.fallback_steps:
        return ()
    start = next((i for i, s in enumerate(o.fallback_steps) if s.name == o.fallback), 0)
    return o.fallback_steps[start:]


def _chain(states: dict[str, Any], steps: tuple[Step, ...], end: str | None, on_error, retry: RetryOverride | None,
           names: set[str], *, keep_input: bool = False) -> None:
    """Add `steps` in order to `states`; the last one goes to `end` (or ends its scope)."""
    for i, step in enumerate(steps):
        state = _state(step, on_error, retry, names, keep_input)
        following = steps[i + 1].name if i + 1 < len(steps) else end
        if following is None:
            state["End"] = True
        else:
            state["Next"] = following
        states[step.name] = state


LAST_RESULT = "$.lastResult"


def _state(step: Step, on_error, retry: RetryOverride | None, names: set[str], keep_input: bool) -> dict[str, Any]:
    if step.type == PARALLEL:
        state: dict[str, Any] = {"Type": "Parallel", "Branches": [_branch(b, retry, names) for b in step.branches]}
    else:
        state = STEP_TYPES[step.type].state(step.params)
        if state["Type"] != "Task":
            return state
        state["Retry"] = retry_for(step, retry)
    # CloudFormation rejects null in a template, so "discard the result" (ResultPath: null) is
    # written as a scratch path that each such step overwrites; the input is kept either way.
    state["ResultPath"] = step.result_path if step.result_path and not keep_input else LAST_RESULT
    state["Catch"] = [on_error(step)]
    return state


def _branch(steps: tuple[Step, ...], retry: RetryOverride | None, names: set[str]) -> dict[str, Any]:
    """A parallel branch: its steps are caught into one PropagateFailure that re-raises the error."""
    states: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    entry: list[str] = []

    def on_error(step: Step) -> dict[str, Any]:
        if not entry:  # created on first use: a branch of waits needs none
            name, added = propagate_states(JSONPATH, names)
            entry.append(name)
            extra.update(added)
        return catch_all(step.name, JSONPATH, entry[0], top=False)

    _chain(states, steps, None, on_error, retry, names)
    return {"StartAt": steps[0].name, "States": {**states, **extra}}
