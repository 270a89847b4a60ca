"""Add Retry and Catch to an ASL definition: dict in, new dict out (the input is never mutated).

Design (why it looks like this):

* **Retry** - a Task without ``Retry`` gets the retriers of its integration
  (:func:`mlmon_cli.asl.retry_policies.policy_for_resource`).  Error names that an existing catcher
  of the Task names explicitly are left out: the author routes them on purpose, and a retrier
  would delay (and repeat the work behind) that routing.  A Task that has ``Retry`` keeps it as is.
  Parallel/Map get no Retry: retrying them re-runs every branch/item, repeating side effects.
* **Catch** - every Task/Parallel/Map gets a final ``States.ALL`` catcher, appended after any
  existing catchers; a list whose last catcher already holds ``States.ALL`` is left alone.
  Top-level catchers keep the state input and add the error to it (``ResultPath: "$.error"`` in
  JSONPath; ``Output: {% $merge([$states.input, {'error': ..., 'failedState': '<name>'}]) %}`` in
  JSONata), so a fallback still sees the data it needs.  **A state whose input is not an object
  cannot keep it** (a Task after a Parallel receives an array): the catcher then raises
  ``States.Runtime``, which no catcher handles, so the execution fails without the alert - it still
  counts in ``ExecutionsFailed``, so the state machine's alarms fire.  Catchers inside Parallel
  branches and Map processors only re-raise, so they replace the input with the error output
  (``ResultPath: "$"`` / ``{% $states.errorOutput %}``): there the input is not needed, and Map
  items are often strings.
* **Scopes** - ``Next`` must name a state of the same scope, so:

  - top level: the failed state's name must reach the message without workflow variables
    (``Assign``), which moto 5.2.1 cannot evaluate.  JSONPath: each catcher goes to a per-state
    ``<State> failed`` Pass (``Result`` = the state name, ``ResultPath: "$.failedState"``), then to
    ``NotifyFailure``; JSONata: the catcher's ``Output`` writes the name as a literal and goes to
    ``NotifyFailure`` directly.  ``NotifyFailure`` (SNS publish with workflow name, failed state,
    ``error.Error``, ``error.Cause``, execution ARN and console link, built with
    ``States.Format``) goes to ``ExecutionFailed`` (Fail, Error ``WorkflowFailed``, Cause
    "<original error> at state <name>: <original cause>"), so the execution still ends FAILED.
    The notify state retries SNS errors and catches into ``ExecutionFailed``, never into itself.
  - Parallel branches and Map processors: catchers go to one ``PropagateFailure`` per scope that
    hands the error back: the branch/iteration fails, the enclosing Parallel/Map fails, and *its*
    catcher notifies.  One failure -> **one** notification however deep it happens (a notify per
    scope would alert once per level and once per failed Map item).  Custom errors are re-raised
    unchanged, so an enclosing catcher on e.g. ``ResourceFailed`` still matches.  ``States.*``
    errors are re-raised as ``mlmon.States.*``: the ASL spec forbids states to raise ``States.``
    names and the moto/LocalStack interpreter rejects it at run time **[AWS behaviour
    unverified]**; ``States.ALL``/``States.TaskFailed`` catchers still match the renamed error.
    JSONPath needs a Choice plus two Fail states for that (``PropagateError``,
    ``PropagateStatesError``); JSONata does it in one Fail state with a conditional expression.

    A state whose QueryLanguage differs from the machine's gets a catcher in its own language; a
    JSONPath catcher always goes through a ``<State> failed`` Pass (``QueryLanguage: JSONPath`` in a
    JSONata machine), so the message always has the state name.
* **Names** - ``<State> failed`` (cut to fit 80 characters), ``NotifyFailure``, ``ExecutionFailed``,
  ``PropagateFailure``, ``PropagateError``, ``PropagateStatesError``; when a name is taken anywhere
  in the state machine (names are global), ``_2``, ``_3``, ... is appended deterministically.  Added states carry a ``Comment`` starting
  with ``[mlmon:harden:<role>]``; a second run finds them by that tag, reuses and skips them, so
  hardening is idempotent.
* New keys are appended at the end of a state; existing keys keep their order and values.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from ..limits import STATE_NAME_MAX
from .check import CATCHABLE_TYPES, STATES_ALL, Scope, child_scopes, iter_scopes, query_language
from .retry_policies import POLICIES, policy_for_resource

__all__ = [
    "ERROR_FIELD",
    "FAILED_STATE_FIELD",
    "MARKER",
    "HardenChange",
    "HardenResult",
    "catch_all",
    "failed_marker",
    "failure_states",
    "harden_definition",
    "propagate_states",
    "unique_name",
]

MARKER = "[mlmon:harden:"
ERROR_FIELD = "error"  # top-level catchers add the error output here: $.error.Error / $.error.Cause
FAILED_STATE_FIELD = "failedState"  # ... and the failed state's name here
SNS_PUBLISH = "arn:aws:states:::sns:publish"
CONSOLE = "https://console.aws.amazon.com/states/home#/v2/executions/details/"
_GENERIC_CATCH_ERRORS = {STATES_ALL, "States.TaskFailed"}
_COMMENTS = {
    "failed": MARKER + "failed] Records which state failed, for the alert.",
    "notify": MARKER + "notify] Publishes a failure alert, then fails the execution.",
    "fail": MARKER + "fail] Ends the execution FAILED (WorkflowFailed); Cause names the original error and state.",
    "propagate": MARKER + "propagate] Hands a caught error back to the enclosing Parallel/Map.",
    "propagate-error": MARKER + "propagate-error] Re-raises the original error unchanged.",
    "propagate-states-error": MARKER + "propagate-states-error] Re-raises a States.* error as mlmon.States.*"
    " (states must not raise States.* names).",
}
WORKFLOW_FAILED = "WorkflowFailed"
RENAMED_PREFIX = "mlmon."
MAX_STATE_NAME = STATE_NAME_MAX
FAILED_SUFFIX = " failed"


@dataclass(frozen=True)
class HardenChange:
    """One change: ``action`` is retry_added | catch_added | catch_all_appended | state_added."""

    path: str
    action: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass(frozen=True)
class HardenResult:
    """The hardened copy and what changed (empty ``changes`` = already hardened)."""

    definition: dict
    changes: tuple[HardenChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        if not self.changes:
            return ["no changes: every Task has Retry and every Task/Parallel/Map a States.ALL catcher"]
        return [str(c) for c in self.changes]


@dataclass
class _Ctx:
    names: set[str]
    topic_arn: str
    workflow_name: str | None
    changes: list[HardenChange] = field(default_factory=list)


def harden_definition(
    definition: dict, *, topic_arn: str = "${AlertTopicArn}", workflow_name: str | None = None
) -> HardenResult:
    """Return a hardened deep copy of ``definition`` plus the list of changes.

    ``workflow_name`` defaults to the state machine name read at run time from the context object.
    """
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        raise ValueError("not an ASL definition: expected an object with a 'States' object")
    defn = copy.deepcopy(definition)
    ctx = _Ctx(names=_all_state_names(defn), topic_arn=topic_arn, workflow_name=workflow_name)
    top_ql = query_language(defn, "JSONPath")
    _harden_scope(Scope("", defn, top_ql), ctx, top=True)
    return HardenResult(defn, tuple(ctx.changes))


def _all_state_names(defn: dict) -> set[str]:
    names: set[str] = set()
    for scope in iter_scopes(defn):
        states = scope.body.get("States")
        if isinstance(states, dict):
            names.update(states)
    return names


def _role(state: object, states: dict | None = None) -> str | None:
    """Role of a state added by a previous run, else None.

    The Comment tag only names the role claimed; the state must also have that role's structure
    (e.g. ``notify`` is an SNS publish whose ``Next`` is the ``WorkflowFailed`` Fail state), so a
    user's state that merely carries the tag never takes over the fallback and never ends a
    failed execution SUCCEEDED.
    """
    comment = state.get("Comment") if isinstance(state, dict) else None
    if not (isinstance(comment, str) and comment.startswith(MARKER)):
        return None
    role = comment[len(MARKER):].split("]", 1)[0]
    shape = _SHAPES.get(role)
    return role if shape is not None and shape(state, states if states is not None else {}) else None


def _is_workflow_failed(state: object) -> bool:
    return isinstance(state, dict) and state.get("Type") == "Fail" and state.get("Error") == WORKFLOW_FAILED


def _notify_shape(state: dict, states: dict) -> bool:
    nxt = state.get("Next")
    catches = state.get("Catch")
    return (state.get("Type") == "Task" and state.get("Resource") == SNS_PUBLISH and isinstance(nxt, str)
            and _is_workflow_failed(states.get(nxt)) and isinstance(catches, list)
            and all(isinstance(c, dict) and _is_workflow_failed(states.get(c.get("Next"))) for c in catches))


def _propagate_shape(state: dict, states: dict) -> bool:
    if state.get("Type") == "Fail":
        return True  # JSONata: one Fail state re-raises
    if state.get("Type") != "Choice":
        return False
    targets = [state.get("Default"), *(c.get("Next") for c in state.get("Choices") or [] if isinstance(c, dict))]
    return all(isinstance(t, str) and isinstance(states.get(t), dict) and states[t].get("Type") == "Fail" for t in targets)


_SHAPES = {
    "failed": lambda s, states: s.get("Type") == "Pass" and isinstance(s.get("Result"), str)
    and s.get("ResultPath") == f"$.{FAILED_STATE_FIELD}" and isinstance(s.get("Next"), str),
    "notify": _notify_shape,
    "fail": lambda s, states: _is_workflow_failed(s),
    "propagate": _propagate_shape,
    "propagate-error": lambda s, states: s.get("Type") == "Fail",
    "propagate-states-error": lambda s, states: s.get("Type") == "Fail",
}


def unique_name(base: str, names: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` ... - the first name not yet used anywhere; claims it."""
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base}_{n}"
    names.add(name)
    return name


# ------------------------------------------------------------------ fallback states (also used by mlmon_cli.workflow)
def failure_states(ql: str, names: set[str], topic_arn: str, workflow_name: str | None) -> tuple[str, dict[str, dict]]:
    """``NotifyFailure`` -> ``ExecutionFailed`` for the top level; returns (entry name, states)."""
    notify, fail = unique_name("NotifyFailure", names), unique_name("ExecutionFailed", names)
    return notify, {notify: _notify_state(ql, fail, topic_arn, workflow_name), fail: _workflow_failed_state(ql)}


def failed_marker(state_name: str, next_state: str, names: set[str]) -> tuple[str, dict]:
    """JSONPath ``<State> failed`` Pass: writes the state name to ``$.failedState`` (no variables needed)."""
    base = state_name[: MAX_STATE_NAME - len(FAILED_SUFFIX) - 3] + FAILED_SUFFIX  # room for a _NN suffix
    state = {"Type": "Pass", "Comment": _COMMENTS["failed"], "Result": state_name,
             "ResultPath": f"$.{FAILED_STATE_FIELD}", "Next": next_state}
    return unique_name(base, names), state


def catch_all(state_name: str, ql: str, target: str, *, top: bool) -> dict:
    """The final ``States.ALL`` catcher: top level keeps the input and adds the error (see module doc)."""
    catcher: dict = {"ErrorEquals": [STATES_ALL]}
    if ql == "JSONata":
        if top:
            extra = f"{{'{ERROR_FIELD}': $states.errorOutput, '{FAILED_STATE_FIELD}': {_jsonata_single(state_name)}}}"
            catcher["Output"] = f"{{% $merge([$states.input, {extra}]) %}}"
        else:
            catcher["Output"] = "{% $states.errorOutput %}"
    else:
        catcher["ResultPath"] = f"$.{ERROR_FIELD}" if top else "$"
    catcher["Next"] = target
    return catcher


def propagate_states(ql: str, names: set[str]) -> tuple[str, dict[str, dict]]:
    """States of a Parallel branch / Map processor that re-raise a caught error; returns (entry, states)."""
    entry = unique_name("PropagateFailure", names)
    if ql == "JSONata":
        return entry, {entry: _propagate_jsonata()}
    exact, renamed = unique_name("PropagateError", names), unique_name("PropagateStatesError", names)
    return entry, {
        entry: _propagate_choice(exact, renamed),
        exact: _reraise("propagate-error", "$.Error"),
        renamed: _reraise("propagate-states-error", f"States.Format('{RENAMED_PREFIX}{{}}', $.Error)"),
    }


class _Fallback:
    """Lazily finds or creates the fallback states of one scope, so unused scopes stay untouched."""

    def __init__(self, scope: Scope, ctx: _Ctx, top: bool):
        self.scope, self.ctx, self.top = scope, ctx, top
        states = scope.body["States"]
        self.existing = {_role(s, states): n for n, s in states.items() if _role(s, states)}
        self.markers: dict[str, dict] = {}
        self.shared: dict[str, dict] = {}
        self._entry: str | None = None

    def target(self, state_name: str, ql: str) -> str:
        """Where the catcher of ``state_name`` (written in query language ``ql``) goes."""
        if self._entry is None:
            self._entry = self.existing.get("notify" if self.top else "propagate") or self._create()
        if not (self.top and ql == "JSONPath"):
            return self._entry
        marker, state = failed_marker(state_name, self._entry, self.ctx.names)
        if self.scope.query_language == "JSONata":
            state["QueryLanguage"] = "JSONPath"
        self.markers[marker] = state
        return marker

    def _create(self) -> str:
        ql = self.scope.query_language
        if self.top:
            entry, states = failure_states(ql, self.ctx.names, self.ctx.topic_arn, self.ctx.workflow_name)
        else:
            entry, states = propagate_states(ql, self.ctx.names)
        self.shared.update(states)
        return entry

    def commit(self) -> None:
        states = self.scope.body["States"]
        for name, state in {**self.markers, **self.shared}.items():
            states[name] = state
            detail = f"added fallback {state['Type']} state ({_role(state, states)})"
            self.ctx.changes.append(HardenChange(self.scope.state_path(name), "state_added", detail))


def _harden_scope(scope: Scope, ctx: _Ctx, *, top: bool) -> None:
    fallback = _Fallback(scope, ctx, top)
    states = scope.body["States"]
    for name, state in list(states.items()):
        if not isinstance(state, dict) or _role(state, states):
            continue
        path = scope.state_path(name)
        ql = query_language(state, scope.query_language)
        if state.get("Type") == "Task":
            _add_retry(path, state, ctx)
        if state.get("Type") in CATCHABLE_TYPES:
            _add_catch(path, name, state, ql, fallback, ctx)
        for child in child_scopes(state, path, ql):
            if isinstance(child.body.get("States"), dict):
                _harden_scope(child, ctx, top=False)
    fallback.commit()


def _explicitly_caught(state: dict) -> frozenset[str]:
    """Error names the author routes on purpose (generic wildcards excluded)."""
    names: set[str] = set()
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("ErrorEquals"), list):
            names.update(e for e in catcher["ErrorEquals"] if isinstance(e, str))
    return frozenset(names - _GENERIC_CATCH_ERRORS)


def _add_retry(path: str, state: dict, ctx: _Ctx) -> None:
    if "Retry" in state:
        return
    policy = policy_for_resource(state.get("Resource"))
    retry = policy.to_asl(drop=_explicitly_caught(state))
    if not retry:
        return  # every transient error is already routed by the author's own catchers
    state["Retry"] = retry
    errors = ", ".join(e for r in retry for e in r["ErrorEquals"])
    ctx.changes.append(HardenChange(path, "retry_added", f"added Retry [{policy.name}] on {errors}"))


def _add_catch(path: str, name: str, state: dict, ql: str, fallback: _Fallback, ctx: _Ctx) -> None:
    catch = state.get("Catch")
    if catch is not None and not isinstance(catch, list):
        return  # e.g. a ${...} placeholder: not ours to rewrite
    if catch and any(isinstance(c, dict) and STATES_ALL in (c.get("ErrorEquals") or []) for c in catch):
        return  # States.ALL already present (if not last, `lint` reports ASL011; appending cannot fix it)
    catcher = catch_all(name, ql, fallback.target(name, ql), top=fallback.top)
    if catch is None:
        state["Catch"] = [catcher]
        ctx.changes.append(HardenChange(path, "catch_added", f"added Catch States.ALL -> {catcher['Next']}"))
    else:
        catch.append(catcher)
        detail = f"appended catcher States.ALL -> {catcher['Next']} after {len(catch) - 1} existing"
        ctx.changes.append(HardenChange(path, "catch_all_appended", detail))


def _workflow_failed_state(ql: str) -> dict:
    """Top-level Fail: constant custom error (never a States.* name); the original goes in Cause."""
    state: dict = {"Type": "Fail", "Comment": _COMMENTS["fail"], "Error": WORKFLOW_FAILED}
    if ql == "JSONata":
        err = f"$states.input.{ERROR_FIELD}"
        parts = [f"{err}.Error", "' at state '", f"$states.input.{FAILED_STATE_FIELD}", "': '", f"{err}.Cause"]
        state["Cause"] = "{% " + " & ".join(parts) + " %}"
    else:
        args = f"$.{ERROR_FIELD}.Error, $.{FAILED_STATE_FIELD}, $.{ERROR_FIELD}.Cause"
        state["CausePath"] = f"States.Format('{{}} at state {{}}: {{}}', {args})"
    return state


def _propagate_choice(exact: str, renamed: str) -> dict:
    """JSONPath has no conditional expression, so a Choice picks how to re-raise."""
    return {
        "Type": "Choice",
        "Comment": _COMMENTS["propagate"],
        "Choices": [{"Variable": "$.Error", "StringMatches": "States.*", "Next": renamed}],
        "Default": exact,
    }


def _reraise(role: str, error_path: str) -> dict:
    return {"Type": "Fail", "Comment": _COMMENTS[role], "ErrorPath": error_path, "CausePath": "$.Cause"}


def _propagate_jsonata() -> dict:
    """One Fail: custom errors re-raised unchanged, States.* ones prefixed with ``mlmon.``."""
    error = "$states.input.Error"
    return {
        "Type": "Fail",
        "Comment": _COMMENTS["propagate"],
        "Error": f"{{% $substring({error}, 0, 7) = 'States.' ? '{RENAMED_PREFIX}' & {error} : {error} %}}",
        "Cause": "{% '' & $states.input.Cause %}",
    }


def _notify_state(ql: str, fail: str, topic_arn: str, workflow_name: str | None) -> dict:
    """SNS publish of the failure; retried on SNS transient errors, never caught into itself."""
    retry = POLICIES["sns"].to_asl()
    if ql == "JSONata":
        args = {"TopicArn": topic_arn, "Subject": _subject_jsonata(workflow_name), "Message": _message_jsonata(workflow_name)}
        keep = "{% $states.input %}"
        return {
            "Type": "Task", "Comment": _COMMENTS["notify"], "Resource": SNS_PUBLISH, "Arguments": args,
            "Output": keep, "Retry": retry,
            "Catch": [{"ErrorEquals": [STATES_ALL], "Output": keep, "Next": fail}], "Next": fail,
        }
    params = {"TopicArn": topic_arn, **_subject_jsonpath(workflow_name), "Message.$": _message_jsonpath(workflow_name)}
    return {
        "Type": "Task", "Comment": _COMMENTS["notify"], "Resource": SNS_PUBLISH, "Parameters": params,
        # Not ResultPath null: a hardened definition may be pasted into CloudFormation, which rejects null.
        "ResultPath": "$.notification", "Retry": retry,
        "Catch": [{"ErrorEquals": [STATES_ALL], "ResultPath": "$.notificationError", "Next": fail}], "Next": fail,
    }


def _escape_intrinsic(text: str) -> str:
    """Escape a literal for an intrinsic-function string: \\ ' { } are special."""
    for ch in ("\\", "'", "{", "}"):
        text = text.replace(ch, "\\" + ch)
    return text


def _ascii_subject(name: str) -> str:
    """SNS Subject: printable ASCII, at most 100 characters."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in name)
    return ("FAILED: " + clean)[:100]


def _subject_jsonpath(workflow_name: str | None) -> dict:
    if workflow_name is not None:
        return {"Subject": _ascii_subject(workflow_name)}
    return {"Subject.$": "States.Format('FAILED: {}', $$.StateMachine.Name)"}


MESSAGE_TEMPLATE = "Step Functions workflow {} failed at state {}. Error: {}. Cause: {}. Execution: {}. Console: " + CONSOLE + "{}"


def _message_jsonpath(workflow_name: str | None) -> str:
    name = "$$.StateMachine.Name" if workflow_name is None else f"'{_escape_intrinsic(workflow_name)}'"
    args = [name, f"$.{FAILED_STATE_FIELD}", f"$.{ERROR_FIELD}.Error", f"$.{ERROR_FIELD}.Cause", "$$.Execution.Id", "$$.Execution.Id"]
    return f"States.Format('{MESSAGE_TEMPLATE}', {', '.join(args)})"


def _jsonata_literal(text: str) -> str:
    """A JSONata double-quoted string literal (JSON escaping is valid JSONata)."""
    return json.dumps(text)


def _jsonata_single(text: str) -> str:
    """A JSONata single-quoted string literal (inside an expression that uses double quotes nowhere)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _subject_jsonata(workflow_name: str | None) -> str:
    if workflow_name is not None:
        return _ascii_subject(workflow_name)
    return "{% 'FAILED: ' & $states.context.StateMachine.Name %}"


def _message_jsonata(workflow_name: str | None) -> str:
    name = "$states.context.StateMachine.Name" if workflow_name is None else _jsonata_literal(workflow_name)
    exe, err = "$states.context.Execution.Id", f"$states.input.{ERROR_FIELD}"
    parts = [
        "'Step Functions workflow '", name, "' failed at state '", f"$states.input.{FAILED_STATE_FIELD}",
        "'. Error: '", f"{err}.Error", "'. Cause: '", f"{err}.Cause",
        "'. Execution: '", exe, f"'. Console: {CONSOLE}'", exe,
    ]
    return "{% " + " & ".join(parts) + " %}"
