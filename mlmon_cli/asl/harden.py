"""Add Retry and Catch to an ASL definition: dict in, new dict out (the input is never mutated).

Design (why it looks like this):

* **Retry** - a Task without ``Retry`` gets the retriers of its integration
  (:func:`mlmon_cli.asl.retry_policies.policy_for_resource`).  Error names that an existing catcher
  of the Task names explicitly are left out: the author routes them on purpose, and a retrier
  would delay (and repeat the work behind) that routing.  A Task that has ``Retry`` keeps it as is.
  Parallel/Map get no Retry: retrying them re-runs every branch/item, repeating side effects.
* **Catch** - every Task/Parallel/Map gets a final ``States.ALL`` catcher, appended after any
  existing catchers; a list whose last catcher already holds ``States.ALL`` is left alone.
  Catchers put the error output in place of the state input (``ResultPath: "$"`` in JSONPath,
  ``Output: "{% $states.errorOutput %}"`` in JSONata).  ``ResultPath: "$.error"`` / ``$merge`` would
  keep the input but fail at run time when the input is not an object (a Task after a Parallel
  receives an array, Map items may be strings), which would lose the very alert we add.
* **Scopes** - ``Next`` must name a state of the same scope, so:

  - top level: catchers go to ``NotifyFailure`` (SNS publish with workflow name, failed state
    name, Error, Cause, execution ARN and console link), then ``ExecutionFailed`` (Fail, Error
    ``WorkflowFailed``, Cause "<original error> at state <name>: <original cause>").  The failed
    state name travels in the workflow variable ``mlmonFailedState`` set by the catcher's
    ``Assign``.  The notify state retries SNS errors and catches into ``ExecutionFailed``, never
    into itself, so a broken topic cannot loop and the execution still ends FAILED.
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

* **Names** - ``NotifyFailure``, ``ExecutionFailed``, ``PropagateFailure``, ``PropagateError``,
  ``PropagateStatesError``; when a name is taken anywhere in the state machine (names are global),
  ``_2``, ``_3``, ... is appended deterministically.  Added states carry a ``Comment`` starting
  with ``[mlmon:harden:<role>]``; a second run finds them by that tag, reuses and skips them, so
  hardening is idempotent.
* New keys are appended at the end of a state; existing keys keep their order and values.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from .check import CATCHABLE_TYPES, STATES_ALL, Scope, child_scopes, iter_scopes, query_language
from .retry_policies import POLICIES, policy_for_resource

__all__ = ["HardenChange", "HardenResult", "harden_definition", "FAILED_STATE_VARIABLE", "MARKER"]

MARKER = "[mlmon:harden:"
FAILED_STATE_VARIABLE = "mlmonFailedState"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
CONSOLE = "https://console.aws.amazon.com/states/home?region="
CONSOLE_PATH = "#/v2/executions/details/"
_GENERIC_CATCH_ERRORS = {STATES_ALL, "States.TaskFailed"}
_COMMENTS = {
    "notify": MARKER + "notify] Publishes a failure alert, then fails the execution.",
    "fail": MARKER + "fail] Ends the execution FAILED (WorkflowFailed); Cause names the original error and state.",
    "propagate": MARKER + "propagate] Hands a caught error back to the enclosing Parallel/Map.",
    "propagate-error": MARKER + "propagate-error] Re-raises the original error unchanged.",
    "propagate-states-error": MARKER + "propagate-states-error] Re-raises a States.* error as mlmon.States.*"
    " (states must not raise States.* names).",
}
WORKFLOW_FAILED = "WorkflowFailed"
RENAMED_PREFIX = "mlmon."


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


def _role(state: object) -> str | None:
    """Role of a state added by a previous run (found by its Comment tag), else None."""
    comment = state.get("Comment") if isinstance(state, dict) else None
    if isinstance(comment, str) and comment.startswith(MARKER):
        return comment[len(MARKER):].split("]", 1)[0]
    return None


class _Fallback:
    """Lazily finds or creates the fallback target of one scope, so unused scopes stay untouched."""

    def __init__(self, scope: Scope, ctx: _Ctx, top: bool):
        self.scope, self.ctx, self.top = scope, ctx, top
        self.role = "notify" if top else "propagate"
        self.existing = {_role(s): n for n, s in scope.body["States"].items() if _role(s)}
        self.new_states: dict[str, dict] = {}
        self._target: str | None = None

    def target(self) -> str:
        if self._target is None:
            self._target = self.existing.get(self.role) or self._create()
        return self._target

    def _create(self) -> str:
        ql, names = self.scope.query_language, self.ctx.names
        if self.top:
            notify, fail = _unique("NotifyFailure", names), _unique("ExecutionFailed", names)
            self.new_states[notify] = _notify_state(ql, fail, self.ctx)
            self.new_states[fail] = _workflow_failed_state(ql)
            return notify
        entry = _unique("PropagateFailure", names)
        if ql == "JSONata":
            self.new_states[entry] = _propagate_jsonata()
            return entry
        exact, renamed = _unique("PropagateError", names), _unique("PropagateStatesError", names)
        self.new_states[entry] = _propagate_choice(exact, renamed)
        self.new_states[exact] = _reraise("propagate-error", "$.Error")
        self.new_states[renamed] = _reraise("propagate-states-error", f"States.Format('{RENAMED_PREFIX}{{}}', $.Error)")
        return entry

    def commit(self) -> None:
        states = self.scope.body["States"]
        for name, state in self.new_states.items():
            states[name] = state
            detail = f"added fallback {state['Type']} state ({_role(state)})"
            self.ctx.changes.append(HardenChange(self.scope.state_path(name), "state_added", detail))


def _unique(base: str, names: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` ... - the first name not yet used anywhere."""
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base}_{n}"
    names.add(name)
    return name


def _harden_scope(scope: Scope, ctx: _Ctx, *, top: bool) -> None:
    fallback = _Fallback(scope, ctx, top)
    for name, state in list(scope.body["States"].items()):
        if not isinstance(state, dict) or _role(state):
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
    catcher = _catcher(name, ql, fallback.target(), assign=fallback.top)
    if catch is None:
        state["Catch"] = [catcher]
        ctx.changes.append(HardenChange(path, "catch_added", f"added Catch States.ALL -> {catcher['Next']}"))
    else:
        catch.append(catcher)
        detail = f"appended catcher States.ALL -> {catcher['Next']} after {len(catch) - 1} existing"
        ctx.changes.append(HardenChange(path, "catch_all_appended", detail))


def _catcher(state_name: str, ql: str, target: str, *, assign: bool) -> dict:
    catcher: dict = {"ErrorEquals": [STATES_ALL]}
    if assign:
        catcher["Assign"] = {FAILED_STATE_VARIABLE: state_name}
    if ql == "JSONata":
        catcher["Output"] = "{% $states.errorOutput %}"
    else:
        catcher["ResultPath"] = "$"
    catcher["Next"] = target
    return catcher


def _workflow_failed_state(ql: str) -> dict:
    """Top-level Fail: constant custom error (never a States.* name); the original goes in Cause."""
    state: dict = {"Type": "Fail", "Comment": _COMMENTS["fail"], "Error": WORKFLOW_FAILED}
    if ql == "JSONata":
        parts = ["$states.input.Error", "' at state '", "$" + FAILED_STATE_VARIABLE, "': '", "$states.input.Cause"]
        state["Cause"] = "{% " + " & ".join(parts) + " %}"
    else:
        state["CausePath"] = f"States.Format('{{}} at state {{}}: {{}}', $.Error, ${FAILED_STATE_VARIABLE}, $.Cause)"
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


def _notify_state(ql: str, fail: str, ctx: _Ctx) -> dict:
    """SNS publish of the failure; retried on SNS transient errors, never caught into itself."""
    retry = POLICIES["sns"].to_asl()
    if ql == "JSONata":
        args = {"TopicArn": ctx.topic_arn, "Subject": _subject_jsonata(ctx), "Message": _message_jsonata(ctx)}
        keep = "{% $states.input %}"
        return {
            "Type": "Task", "Comment": _COMMENTS["notify"], "Resource": SNS_PUBLISH, "Arguments": args,
            "Output": keep, "Retry": retry,
            "Catch": [{"ErrorEquals": [STATES_ALL], "Output": keep, "Next": fail}], "Next": fail,
        }
    params = {"TopicArn": ctx.topic_arn, **_subject_jsonpath(ctx), "Message.$": _message_jsonpath(ctx)}
    return {
        "Type": "Task", "Comment": _COMMENTS["notify"], "Resource": SNS_PUBLISH, "Parameters": params,
        "ResultPath": None, "Retry": retry,
        "Catch": [{"ErrorEquals": [STATES_ALL], "ResultPath": None, "Next": fail}], "Next": fail,
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


def _subject_jsonpath(ctx: _Ctx) -> dict:
    if ctx.workflow_name is not None:
        return {"Subject": _ascii_subject(ctx.workflow_name)}
    return {"Subject.$": "States.Format('FAILED: {}', $$.StateMachine.Name)"}


def _message_jsonpath(ctx: _Ctx) -> str:
    name = "$$.StateMachine.Name" if ctx.workflow_name is None else f"'{_escape_intrinsic(ctx.workflow_name)}'"
    template = (
        "Step Functions workflow {} failed at state {}. Error: {}. Cause: {}. Execution: {}. "
        f"Console: {CONSOLE}{{}}{CONSOLE_PATH}{{}}"
    )
    region = "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 3)"
    args = [name, "$" + FAILED_STATE_VARIABLE, "$.Error", "$.Cause", "$$.Execution.Id", region, "$$.Execution.Id"]
    return f"States.Format('{template}', {', '.join(args)})"


def _jsonata_literal(text: str) -> str:
    """A JSONata double-quoted string literal (JSON escaping is valid JSONata)."""
    return json.dumps(text)


def _subject_jsonata(ctx: _Ctx) -> str:
    if ctx.workflow_name is not None:
        return _ascii_subject(ctx.workflow_name)
    return "{% 'FAILED: ' & $states.context.StateMachine.Name %}"


def _message_jsonata(ctx: _Ctx) -> str:
    name = "$states.context.StateMachine.Name" if ctx.workflow_name is None else _jsonata_literal(ctx.workflow_name)
    exe = "$states.context.Execution.Id"
    parts = [
        "'Step Functions workflow '", name, "' failed at state '", "$" + FAILED_STATE_VARIABLE,
        "'. Error: '", "$states.input.Error", "'. Cause: '", "$states.input.Cause",
        "'. Execution: '", exe, f"'. Console: {CONSOLE}'", f"$split({exe}, ':')[3]", f"'{CONSOLE_PATH}'", exe,
    ]
    return "{% " + " & ".join(parts) + " %}"
