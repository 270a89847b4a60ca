"""A workflow's steps and retry overrides, and the `parse` hooks that build them from located YAML.

Why hooks instead of plain dataclass fields: steps are a nested, typed list (each step names one
step type, whose keys differ). The generic converter hands the node to `parse_steps`, which reports
every problem with file:line:col and a dotted path such as
`components[3].steps[2].glue_job_run.job_name`, and keeps each step's location for later checks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..asl.retry_policies import Retrier
from ..errors import Location
from ..spec.convert import MISSING, SpecReader
from ..spec.model import doc
from ..spec.nodes import node_location
from .steps import STEP_TYPES

PARALLEL = "parallel"
STEP_KEYS = ("name", "retry", "result_path")
MAX_STEP_NAME = 64  # Step Functions allows 80-character state names; 64 leaves room for "<name> failed"
RESULT_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class RetryOverride:
    """Retrier fields that replace the defaults in every retrier of a step (facts §3.2 for ranges)."""

    interval_seconds: int | None = field(
        default=None, metadata=doc("Seconds before the first retry.", unit="s", minimum=1, maximum=99_999_999))
    max_attempts: int | None = field(
        default=None, metadata=doc("Retries after the first attempt (0 = never retry).", minimum=0, maximum=99_999_999))
    backoff_rate: float | None = field(
        default=None, metadata=doc("Multiplier applied to the interval after each retry (at least 1).", minimum=1, maximum=1000))
    max_delay_seconds: int | None = field(
        default=None, metadata=doc("Upper bound of any one interval.", unit="s", minimum=1, maximum=31_622_400))
    jitter: str | None = field(
        default=None, metadata=doc("FULL (each wait is random in [0, interval]) or NONE.", choices=("FULL", "NONE")))

    def apply(self, retrier: Retrier) -> Retrier:
        changes: dict[str, Any] = {
            "interval_seconds": self.interval_seconds, "max_attempts": self.max_attempts, "backoff_rate": self.backoff_rate,
            "max_delay_seconds": self.max_delay_seconds, "jitter_strategy": self.jitter,
        }
        return dataclasses.replace(retrier, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class Step:
    """One step: a step type with its parameters, or a parallel block of branches."""

    name: str
    type: str
    location: Location
    at: dict[str, Location]  # where its `name`, `result_path` and type key are, for later checks
    params: Any = None
    branches: tuple[tuple[Step, ...], ...] = ()
    retry: RetryOverride | None = None
    result_path: str | None = None

    def walk(self) -> Iterator[Step]:
        """This step and every step nested in its branches."""
        yield self
        for branch in self.branches:
            for step in branch:
                yield from step.walk()


def walk(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        yield from step.walk()


def parse_retry(r: SpecReader, node: yaml.Node, path: str) -> Any:
    """`retry:` mapping -> RetryOverride."""
    pairs = r.mapping(node, path, [f.name for f in dataclasses.fields(RetryOverride)])
    if pairs is None:
        return MISSING
    before = len(r.problems)
    values = r.dataclass(RetryOverride, pairs, path)
    return RetryOverride(**values) if len(r.problems) == before else MISSING


def parse_steps(r: SpecReader, node: yaml.Node, path: str) -> Any:
    """A non-empty list of steps -> tuple[Step, ...]; MISSING after recording problems."""
    if not isinstance(node, yaml.SequenceNode):
        r.error(node, path, "expected a list of steps")
        return MISSING
    if not node.value:
        r.error(node, path, "list at least one step")
        return MISSING
    steps = [_step(r, item, f"{path}[{i}]") for i, item in enumerate(node.value)]
    return MISSING if MISSING in steps else tuple(steps)


def _step(r: SpecReader, node: yaml.Node, path: str) -> Any:
    types = [*STEP_TYPES, PARALLEL]
    before = len(r.problems)
    pairs = r.mapping(node, path, [*STEP_KEYS, *types], required=("name",))
    if pairs is None:
        return MISSING
    given = [k for k in pairs if k in types]
    if not given:
        if len(r.problems) == before:  # else an unknown key (a misspelt type) was already reported
            r.error(node, path, f"give the step's type as a key: one of {', '.join(types)}")
        return MISSING
    for extra in given[1:]:
        r.error(pairs[extra][0], f"{path}.{extra}", f"a step has one type; this one already is '{given[0]}'")
    kind = given[0]
    name = _name(r, pairs, path)
    type_path = f"{path}.{kind}"
    value_node = pairs[kind][1]
    params, branches = None, ()
    if kind == PARALLEL:
        branches = _branches(r, value_node, type_path)
    else:
        params = _params(r, kind, value_node, type_path)
    retry = parse_retry(r, pairs["retry"][1], f"{path}.retry") if "retry" in pairs else None
    result_path = _result_path(r, pairs, path)
    step_type = STEP_TYPES.get(kind)
    if "retry" in pairs and (step_type is None or not step_type.resource):
        why = "retry the steps inside its branches instead (retrying a parallel re-runs every branch)" if kind == PARALLEL else "it calls no service"
        r.error(pairs["retry"][0], f"{path}.retry", f"a {kind} step has no retry: {why}")
    if "result_path" in pairs and step_type is not None and not step_type.resource:
        r.error(pairs["result_path"][0], f"{path}.result_path", f"a {kind} step has no result")
    if len(r.problems) > before:
        return MISSING
    at = {k: node_location(v, r.file, f"{path}.{k}") for k, (_, v) in pairs.items() if k in ("name", "result_path")}
    at[kind] = node_location(pairs[kind][0], r.file, type_path)
    return Step(name=name, type=kind, location=node_location(node, r.file, path), at=at, params=params,
                branches=branches, retry=retry, result_path=result_path)


def _name(r: SpecReader, pairs: dict, path: str) -> Any:
    if "name" not in pairs:
        return MISSING
    node = pairs["name"][1]
    name = r.scalar(node, f"{path}.name", str)
    if name is not MISSING and (len(name) > MAX_STEP_NAME or name != name.strip() or any(c in '"\\' or ord(c) < 32 for c in name)):
        r.error(node, f"{path}.name", f"at most {MAX_STEP_NAME} characters without leading or trailing spaces, control characters, '\"' or '\\'")
        return MISSING
    return name


def _result_path(r: SpecReader, pairs: dict, path: str) -> Any:
    if "result_path" not in pairs:
        return None
    node = pairs["result_path"][1]
    value = r.scalar(node, f"{path}.result_path", str)
    if value is not MISSING and not RESULT_PATH.match(value):
        r.error(node, f"{path}.result_path", f"expected a path like '$.train' (letters, digits, '_'), got '{value}'")
        return MISSING
    return value


def _branches(r: SpecReader, node: yaml.Node, path: str) -> Any:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        r.error(node, path, "expected a list of branches, each a list of steps")
        return MISSING
    branches = [parse_steps(r, item, f"{path}[{i}]") for i, item in enumerate(node.value)]
    return MISSING if MISSING in branches else tuple(branches)


def _params(r: SpecReader, kind: str, node: yaml.Node, path: str) -> Any:
    step_type = STEP_TYPES[kind]
    fields = dataclasses.fields(step_type.Params)
    required = [f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not required:
        return step_type.Params()
    pairs = r.mapping(node, path, [f.name for f in fields], required=required)
    if pairs is None:
        return MISSING
    before = len(r.problems)
    values = r.dataclass(step_type.Params, pairs, path)
    if len(r.problems) > before or any(name not in values for name in required):
        return MISSING
    params = step_type.Params(**values)
    for key, message in step_type.check(params):
        r.error(pairs[key][1] if key in pairs else node, f"{path}.{key}" if key else path, message)
    return params if len(r.problems) == before else MISSING
