"""Pure checker for Amazon States Language definitions: dict in, findings out.

Why: cfn-lint (E3601) validates the ASL shape but not the error-handling rules that decide whether a
failure is retried, caught and reported (facts §3.4).  This module checks exactly those, in every
scope (top level, Parallel ``Branches``, Map ``ItemProcessor`` and legacy ``Iterator``).

Strings holding ``${...}`` substitutions or JSONata ``{% ... %}`` expressions cannot be checked before
deployment; they produce no finding.

Rules
-----
ASL001 warning  Task without Retry
ASL002 warning  Task/Parallel/Map without Catch
ASL003 warning  Catch has no ``States.ALL`` catcher (unexpected errors bypass the fallback)
ASL010 error    ``States.ALL`` not alone in its ErrorEquals
ASL011 error    ``States.ALL`` in a retrier/catcher that is not the last one
ASL012 error    ErrorEquals missing, empty or not a list of strings
ASL013 error    Retry/Catch not a list, an entry not an object, or a catcher without Next
ASL020 error    definition/scope has no ``States`` object
ASL021 error    StartAt, Next, Default, Choices[].Next or Catch[].Next names no state of the scope
ASL022 error    state unreachable from StartAt within its scope
ASL023 error    state name used more than once in the state machine
ASL030 error    BackoffRate below 1.0
ASL031 error    BackoffRate not a number
ASL032 error    IntervalSeconds not an integer in 1..99,999,999
ASL033 error    MaxAttempts not an integer in 0..99,999,999
ASL034 error    MaxDelaySeconds not an integer in 1..31,622,400
ASL035 error    JitterStrategy not FULL or NONE
ASL040 warning  a States.ALL/States.TaskFailed catcher leads to a success end (Succeed, or End: true) with no
                Fail on the way: the failed execution reports SUCCEEDED, so no failure alarm or rule fires

Retry on Parallel/Map is deliberately *not* required: a retrier there re-runs every branch or item,
repeating side effects of the Tasks that succeeded; their inner Tasks carry their own Retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeGuard

__all__ = ["RULES", "AslFinding", "Scope", "check_definition", "child_scopes", "is_dynamic", "iter_scopes"]

RULES: dict[str, str] = {
    "ASL001": "warning", "ASL002": "warning", "ASL003": "warning",
    "ASL010": "error", "ASL011": "error", "ASL012": "error", "ASL013": "error",
    "ASL020": "error", "ASL021": "error", "ASL022": "error", "ASL023": "error",
    "ASL030": "error", "ASL031": "error", "ASL032": "error", "ASL033": "error",
    "ASL034": "error", "ASL035": "error", "ASL040": "warning",
}
CATCHABLE_TYPES = ("Task", "Parallel", "Map")
STATES_ALL = "States.ALL"

# (field, lowest, highest) for integer retrier fields, facts §3.2 / ASL language service schema
_INT_FIELDS = {
    "IntervalSeconds": ("ASL032", 1, 99_999_999),
    "MaxAttempts": ("ASL033", 0, 99_999_999),
    "MaxDelaySeconds": ("ASL034", 1, 31_622_400),
}


@dataclass(frozen=True)
class AslFinding:
    """One problem at a dotted path such as ``States.Train.Catch[0].ErrorEquals``."""

    path: str
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.severity} {self.rule}: {self.message}"


@dataclass(frozen=True)
class Scope:
    """A ``{StartAt, States}`` object; ``prefix`` is prepended to ``States.<name>`` paths."""

    prefix: str
    body: dict
    query_language: str

    def state_path(self, name: str) -> str:
        return f"{self.prefix}States.{name}"


def is_dynamic(value: object) -> bool:
    """True for values only known at deploy/run time: ``${...}`` or JSONata ``{% %}`` strings."""
    return isinstance(value, str) and ("${" in value or value.strip().startswith("{%"))


def query_language(state: dict, inherited: str) -> str:
    """Effective QueryLanguage of a state: its own field, else the enclosing one."""
    ql = state.get("QueryLanguage")
    return ql if ql in ("JSONPath", "JSONata") else inherited


def child_scopes(state: dict, state_path: str, ql: str) -> list[Scope]:
    """Nested scopes of a Parallel (Branches) or Map (ItemProcessor / legacy Iterator)."""
    found: list[Scope] = []
    branches = state.get("Branches")
    if isinstance(branches, list):
        for i, branch in enumerate(branches):
            if isinstance(branch, dict):
                found.append(Scope(f"{state_path}.Branches[{i}].", branch, ql))
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(state.get(key), dict):
            found.append(Scope(f"{state_path}.{key}.", state[key], ql))
    return found


def iter_scopes(definition: dict) -> Iterator[Scope]:
    """Yield the top-level scope, then every nested scope depth-first in document order."""
    top_ql = query_language(definition, "JSONPath")
    stack = [Scope("", definition, top_ql)]
    while stack:
        scope = stack.pop()
        yield scope
        states = scope.body.get("States")
        if not isinstance(states, dict):
            continue
        nested: list[Scope] = []
        for name, state in states.items():
            if isinstance(state, dict):
                nested += child_scopes(state, scope.state_path(name), query_language(state, scope.query_language))
        stack.extend(reversed(nested))


def _f(path: str, rule: str, message: str) -> AslFinding:
    return AslFinding(path, rule, RULES[rule], message)


def check_definition(definition: dict) -> list[AslFinding]:
    """Return all findings for ``definition``, in document order; never raises on odd input."""
    if not isinstance(definition, dict):
        return [_f("", "ASL020", "definition is not an object")]
    findings: list[AslFinding] = []
    seen: dict[str, str] = {}
    for scope in iter_scopes(definition):
        findings += _check_scope(scope, seen)
    return findings


def _check_scope(scope: Scope, seen: dict[str, str]) -> list[AslFinding]:
    states = scope.body.get("States")
    if not isinstance(states, dict) or not states:
        return [_f(f"{scope.prefix}States", "ASL020", "scope has no States object")]
    findings = _check_names(scope, states, seen)
    findings += _check_start(scope, states)
    for name, state in states.items():
        if isinstance(state, dict):
            findings += _check_state(scope.state_path(name), state, states)
    findings += _check_reachability(scope, states)
    findings += _check_catch_ends(scope, states)
    return findings


def _check_names(scope: Scope, states: dict, seen: dict[str, str]) -> list[AslFinding]:
    """State names must be unique in the whole state machine, not just per scope."""
    findings = []
    for name in states:
        path = scope.state_path(name)
        if name in seen:
            findings.append(_f(path, "ASL023", f"state name {name!r} is also used at {seen[name]}"))
        else:
            seen[name] = path
    return findings


def _check_start(scope: Scope, states: dict) -> list[AslFinding]:
    start = scope.body.get("StartAt")
    if is_dynamic(start) or (isinstance(start, str) and start in states):
        return []
    what = "is missing" if start is None else f"names no state of this scope: {start!r}"
    return [_f(f"{scope.prefix}StartAt", "ASL021", f"StartAt {what}")]


def _transitions(path: str, state: dict) -> list[tuple[str, object]]:
    """(path, target) for every field that names a next state."""
    out: list[tuple[str, object]] = []
    if "Next" in state:
        out.append((f"{path}.Next", state["Next"]))
    if "Default" in state:
        out.append((f"{path}.Default", state["Default"]))
    for key in ("Choices", "Catch"):
        items = state.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict) and "Next" in item:
                    out.append((f"{path}.{key}[{i}].Next", item["Next"]))
    return out


def _check_state(path: str, state: dict, states: dict) -> list[AslFinding]:
    findings = []
    for where, target in _transitions(path, state):
        if not is_dynamic(target) and not (isinstance(target, str) and target in states):
            findings.append(_f(where, "ASL021", f"{target!r} is not a state of this scope"))
    typ = state.get("Type")
    if typ == "Task" and "Retry" not in state:
        findings.append(_f(path, "ASL001", "Task has no Retry; transient service errors fail the state"))
    if typ in CATCHABLE_TYPES:
        findings += _check_catch_coverage(path, state, typ)
    if "Retry" in state:
        findings += _check_list(f"{path}.Retry", state["Retry"], is_catch=False)
    if "Catch" in state:
        findings += _check_list(f"{path}.Catch", state["Catch"], is_catch=True)
    return findings


def _check_catch_coverage(path: str, state: dict, typ: str) -> list[AslFinding]:
    catch = state.get("Catch")
    if catch is None:
        return [_f(path, "ASL002", f"{typ} has no Catch; a failure ends the execution without a fallback")]
    if isinstance(catch, list) and not any(
        isinstance(c, dict) and isinstance(c.get("ErrorEquals"), list) and STATES_ALL in c["ErrorEquals"] for c in catch
    ):
        return [_f(f"{path}.Catch", "ASL003", "no States.ALL catcher; unexpected errors bypass the fallback")]
    return []


def _check_list(path: str, items: object, *, is_catch: bool) -> list[AslFinding]:
    """Structure, States.ALL placement and (for retriers) field types of a Retry/Catch list."""
    if is_dynamic(items):
        return []
    if not isinstance(items, list):
        return [_f(path, "ASL013", "must be a list")]
    findings = []
    for i, item in enumerate(items):
        ipath = f"{path}[{i}]"
        if not isinstance(item, dict):
            findings.append(_f(ipath, "ASL013", "entry must be an object"))
            continue
        findings += _check_error_equals(ipath, item, last=i == len(items) - 1)
        if is_catch and "Next" not in item:
            findings.append(_f(ipath, "ASL013", "catcher has no Next"))
        if not is_catch:
            findings += _check_retrier_fields(ipath, item)
    return findings


def _check_error_equals(path: str, item: dict, *, last: bool) -> list[AslFinding]:
    errors = item.get("ErrorEquals")
    if is_dynamic(errors):
        return []
    if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
        return [_f(f"{path}.ErrorEquals", "ASL012", "must be a non-empty list of error names")]
    findings = []
    if STATES_ALL in errors and len(errors) > 1:
        findings.append(_f(f"{path}.ErrorEquals", "ASL010", "States.ALL must appear alone in ErrorEquals"))
    if STATES_ALL in errors and not last:
        findings.append(_f(f"{path}.ErrorEquals", "ASL011", "States.ALL must be in the last retrier/catcher"))
    return findings


def _is_int(value: object) -> TypeGuard[int | float]:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _check_retrier_fields(path: str, item: dict) -> list[AslFinding]:
    findings = []
    for field, (rule, low, high) in _INT_FIELDS.items():
        value = item.get(field)
        if field in item and not is_dynamic(value) and not (_is_int(value) and low <= value <= high):
            findings.append(_f(f"{path}.{field}", rule, f"must be an integer in {low}..{high:,}, got {value!r}"))
    findings += _check_backoff(path, item)
    jitter = item.get("JitterStrategy")
    if "JitterStrategy" in item and not is_dynamic(jitter) and jitter not in ("FULL", "NONE"):
        findings.append(_f(f"{path}.JitterStrategy", "ASL035", f"must be FULL or NONE, got {jitter!r}"))
    return findings


def _check_backoff(path: str, item: dict) -> list[AslFinding]:
    if "BackoffRate" not in item or is_dynamic(item["BackoffRate"]):
        return []
    rate = item["BackoffRate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        return [_f(f"{path}.BackoffRate", "ASL031", f"must be a number, got {rate!r}")]
    if rate < 1:
        return [_f(f"{path}.BackoffRate", "ASL030", f"must be >= 1.0, got {rate!r}")]
    return []


def _check_reachability(scope: Scope, states: dict) -> list[AslFinding]:
    """Every state must be reachable from StartAt through Next/Default/Choices/Catch."""
    start = scope.body.get("StartAt")
    if not isinstance(start, str) or start not in states:
        return []  # already reported by ASL021; reachability would only add noise
    reached, todo = {start}, [start]
    while todo:
        state = states.get(todo.pop())
        if not isinstance(state, dict):
            continue
        for _, target in _transitions("", state):
            if isinstance(target, str) and target in states and target not in reached:
                reached.add(target)
                todo.append(target)
    if any(is_dynamic(t) for s in states.values() if isinstance(s, dict) for _, t in _transitions("", s)):
        return []  # a ${...} target could point anywhere
    return [
        _f(scope.state_path(name), "ASL022", f"state {name!r} is not reachable from StartAt {start!r}")
        for name in states
        if name not in reached
    ]


# Catchers of these errors take unexpected failures; a catcher of a named error is often deliberate control flow.
_FAILURE_CATCHERS = (STATES_ALL, "States.TaskFailed")


def _check_catch_ends(scope: Scope, states: dict) -> list[AslFinding]:
    """ASL040: a catcher whose handler path ends in success hides the failure from every execution metric.

    Map item scopes are skipped (tolerating failed items is a common, deliberate pattern), and a
    handler that loops back to the catching state (retry by hand) is not flagged.
    """
    if ".ItemProcessor." in scope.prefix or ".Iterator." in scope.prefix:
        return []
    findings = []
    for name, state in states.items():
        catch = state.get("Catch") if isinstance(state, dict) else None
        if not isinstance(catch, list):
            continue
        for i, catcher in enumerate(catch):
            if not (isinstance(catcher, dict) and isinstance(catcher.get("ErrorEquals"), list)
                    and any(e in _FAILURE_CATCHERS for e in catcher["ErrorEquals"])):
                continue
            target = catcher.get("Next")
            end = _success_end(target, name, states) if isinstance(target, str) and target in states else None
            if end is not None:
                findings.append(_f(f"{scope.state_path(name)}.Catch[{i}].Next", "ASL040",
                                   f"the failure caught here reaches {end!r} ({states[end].get('Type')}, a success end) "
                                   "without a Fail state: the execution reports SUCCEEDED and failure alarms stay silent"))
    return findings


def _leads_to(start: str, goal: str, states: dict) -> bool:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        state = states.get(current)
        for _, target in _transitions("", state) if isinstance(state, dict) else ():
            if isinstance(target, str) and target in states and target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def _success_end(start: str, catching: str, states: dict) -> str | None:
    """First success end (Succeed, or End: true on a non-Fail state) reachable from `start` through
    Next/Default/Choices without passing a state that leads back to `catching`; None if there is none."""
    seen, todo = {start}, [start]
    while todo:
        name = todo.pop(0)
        state = states.get(name)
        if not isinstance(state, dict) or _leads_to(name, catching, states):
            continue
        if state.get("Type") == "Succeed" or (state.get("End") is True and state.get("Type") != "Fail"):
            return name
        for _, target in _transitions("", {k: v for k, v in state.items() if k != "Catch"}):
            if isinstance(target, str) and target in states and target not in seen:
                seen.add(target)
                todo.append(target)
    return None
