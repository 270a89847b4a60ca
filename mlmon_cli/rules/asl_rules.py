"""The Amazon States Language rules (ASL0xx) as rule objects over every state machine of a template.

The checks themselves live in `mlmon_cli/asl/check.py` (pure: definition in, findings out; it
also owns each rule's severity). Here each rule gets its metadata, and its check reads the one
checker pass `_check` runs over every definition the template holds.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

from ..asl import RULES as ASL_SEVERITY
from ..asl import check_definition
from .base import Hit, Rule, TemplateContext, register
from .state_machines import state_machines

ERROR_HANDLING = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
STATES = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-states.html"
TRANSITIONS = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html"

# id: (short description, description, help link)
ASL_RULES: dict[str, tuple[str, str, str]] = {
    "ASL001": ("Task without Retry", "transient service errors (throttling, Lambda service errors) fail the state at once",
               ERROR_HANDLING),
    "ASL002": ("Task, Parallel or Map without Catch", "a failure ends the execution without a fallback that notifies",
               ERROR_HANDLING),
    "ASL003": ("Catch without States.ALL", "errors the catchers do not name bypass the fallback", ERROR_HANDLING),
    "ASL010": ("States.ALL not alone", "States.ALL must appear alone in its ErrorEquals", ERROR_HANDLING),
    "ASL011": ("States.ALL not last", "a retrier or catcher with States.ALL must be the last one", ERROR_HANDLING),
    "ASL012": ("Bad ErrorEquals", "ErrorEquals is missing, empty or not a list of error names", ERROR_HANDLING),
    "ASL013": ("Bad Retry or Catch", "Retry/Catch is not a list, an entry is not an object, or a catcher has no Next",
               ERROR_HANDLING),
    "ASL020": ("No States", "the definition or a Parallel/Map scope has no States object", STATES),
    "ASL021": ("Transition to no state", "StartAt, Next, Default, Choices[].Next or Catch[].Next names no state of its scope",
               TRANSITIONS),
    "ASL022": ("Unreachable state", "the state cannot be reached from StartAt within its scope", TRANSITIONS),
    "ASL023": ("Duplicate state name", "state names must be unique in the whole state machine", STATES),
    "ASL030": ("BackoffRate below 1.0", "BackoffRate must be at least 1.0", ERROR_HANDLING),
    "ASL031": ("BackoffRate not a number", "BackoffRate must be a number", ERROR_HANDLING),
    "ASL032": ("Bad IntervalSeconds", "IntervalSeconds must be an integer in 1..99,999,999", ERROR_HANDLING),
    "ASL033": ("Bad MaxAttempts", "MaxAttempts must be an integer in 0..99,999,999", ERROR_HANDLING),
    "ASL034": ("Bad MaxDelaySeconds", "MaxDelaySeconds must be an integer in 1..31,622,400", ERROR_HANDLING),
    "ASL035": ("Bad JitterStrategy", "JitterStrategy must be FULL or NONE", ERROR_HANDLING),
    "ASL040": ("Catch path ends in success",
               "a States.ALL or States.TaskFailed catcher leads to a Succeed state or an End: true state with no Fail on "
               "the way, so the failed execution reports SUCCEEDED and no failure alarm or rule fires (Map item "
               "scopes and handlers that loop back to the catching state are not flagged)", ERROR_HANDLING),
}


def split_path(definition: Any, dotted: str) -> tuple[Any, ...]:
    """`States.Train.Catch[0].Next` as keys that exist in `definition` (the deepest existing prefix).

    State names may contain '.' or '[', so at each mapping the longest key that prefixes the rest wins.
    """
    keys: list[Any] = []
    node, rest = definition, dotted
    while rest:
        if isinstance(node, dict):
            fits = [k for k in node if isinstance(k, str) and (rest == k or rest.startswith((k + ".", k + "[")))]
            if not fits:
                break
            key = max(fits, key=len)
            keys.append(key)
            node, rest = node[key], rest[len(key):].removeprefix(".")
        elif isinstance(node, list) and (m := re.match(r"\[(\d+)\]\.?", rest)) and int(m.group(1)) < len(node):
            keys.append(int(m.group(1)))
            node, rest = node[int(m.group(1))], rest[m.end():]
        else:
            break
    return tuple(keys)


def asl_hits_by_rule(ctx: TemplateContext) -> dict[str, list[Hit]]:
    """Run the ASL checker once over every readable definition; group the hits by rule ID."""
    hits: dict[str, list[Hit]] = defaultdict(list)
    for machine in state_machines(ctx):
        if machine.definition is None:
            continue
        for f in check_definition(machine.definition):
            inner = split_path(machine.definition, f.path)
            path = machine.key_path + (inner if machine.mapped else ())
            detail = () if machine.mapped or machine.style != "DefinitionString" else inner
            hits[f.rule].append(Hit(path, f"{machine.resource}: {machine.style}.{f.path}: {f.message}", detail,
                                    file=machine.file, where=f.path))
    return hits


def _check(rule_id: str, ctx: TemplateContext) -> list[Hit]:
    """One rule's hits; the checker runs once per template for all ASL rules."""
    if "asl_hits" not in ctx.cache:
        ctx.cache["asl_hits"] = asl_hits_by_rule(ctx)
    return ctx.cache["asl_hits"].get(rule_id, [])


if set(ASL_RULES) != set(ASL_SEVERITY):  # pragma: no cover - guarded by tests/test_rules.py too
    raise RuntimeError(f"ASL rule metadata out of step with asl/check.py: {sorted(set(ASL_RULES) ^ set(ASL_SEVERITY))}")

for _id, (_short, _long, _url) in ASL_RULES.items():
    register(Rule(_id, ASL_SEVERITY[_id], _short, _long, _url, functools.partial(_check, _id), ("stepfunctions",)))
