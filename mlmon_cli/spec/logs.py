"""The component-level log keys every kind accepts: `log_group`, `log_patterns`, `log_queries`.

```yaml
- kind: lambda
  name: preprocess
  function_name: churn-preprocess         # log group /aws/lambda/churn-preprocess by default
  log_patterns:                           # a metric filter and an alarm each
    - timeout                             # built-in patterns by name ...
    - out_of_memory
    - {name: traceback, severity: critical}            # ... with their severity changed
    - {name: bad-rows, pattern: '"rejected rows"', severity: warning}   # or your own
  log_queries: true                       # saved Logs Insights queries (the default)
```

Why metric filters are opt-in: an `AWS::Logs::MetricFilter` needs its log group to exist when
the stack is deployed (CloudFormation fails the stack otherwise), and a function's or endpoint's
log group only exists once it has logged. Saved queries (`AWS::Logs::QueryDefinition`) only name
the group, so they are created by default for every kind with a known log group. The filter
patterns of the built-ins were checked against the CloudWatch Logs filter-pattern syntax (terms
with non-alphanumeric characters in double quotes, `?"a" ?"b"` for any of several terms) and
against the messages the runtimes write (see each pattern's `why`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import Location, did_you_mean
from ..limits import MAX_FILTER_PATTERN
from .fields import SEVERITIES
from .nodes import node_location

LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")  # CreateLogGroup's logGroupName pattern
PATTERN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
KEYS = ("log_group", "log_patterns", "log_queries")
# Logs Insights regex of failure-looking lines, used by the saved "Latest failures" queries of every kind.
FAILURE_REGEX = r"/(?i)(error|exception|traceback|timed out|out of memory|killed)/"


@dataclass(frozen=True)
class BuiltinPattern:
    pattern: str
    severity: str
    why: str
    first_step: str


# Filter patterns are case sensitive; every term is quoted (required for terms with spaces or
# punctuation, harmless otherwise, as the CDK's FilterPattern also does).
BUILTIN_PATTERNS = {
    "timeout": BuiltinPattern(
        '"Task timed out"', "critical",
        "an invocation hit its timeout (Lambda writes 'Task timed out after N seconds')",
        "find the request ID on the matching line and see what the invocation was waiting on",
    ),
    "out_of_memory": BuiltinPattern(
        '?"Runtime.OutOfMemory" ?"signal: killed" ?"MemoryError" ?"OutOfMemoryError"', "critical",
        "the process ran out of memory (Lambda: Runtime.OutOfMemory or 'Runtime exited with error: signal: "
        "killed'; Python MemoryError; Java OutOfMemoryError)",
        "compare peak memory with the configured size and raise it, or stream the data instead of loading it whole",
    ),
    "cuda_oom": BuiltinPattern(
        '?"CUDA out of memory" ?"CUDA error: out of memory" ?"OOM when allocating tensor"', "critical",
        "a GPU ran out of memory (PyTorch 'CUDA out of memory', CUDA 'out of memory', TensorFlow 'OOM when "
        "allocating tensor')",
        "lower the batch size or sequence length, or use an instance type with more GPU memory",
    ),
    "traceback": BuiltinPattern(
        '"Traceback (most recent call last)"', "warning",
        "a Python exception was printed with its traceback (handled or not)",
        "run the saved 'Latest failures' query and read the exception under the traceback",
    ),
}


@dataclass(frozen=True)
class LogPattern:
    """One metric filter (and its alarm) on the component's log group."""

    name: str
    pattern: str
    severity: str
    location: Location
    builtin: bool = False


@dataclass(frozen=True)
class ComponentLogs:
    """The log keys of one component (see the module docstring)."""

    log_group: str | None = None
    log_patterns: tuple[LogPattern, ...] = ()
    log_queries: bool = True
    patterns_at: Location | None = None  # where `log_patterns` is, for the cross-check with the kind


def reference_markdown() -> str:
    """The README's table of the log keys (docs.py)."""
    builtins = ", ".join(f"`{name}` ({b.severity}: `{b.pattern}`)" for name, b in BUILTIN_PATTERNS.items())
    return (
        "Every component also takes these log keys (CloudWatch Logs; see [Logs](#logs-metric-filters-and-saved-queries)):\n\n"
        "| key | type | default | meaning |\n|---|---|---|---|\n"
        "| `log_group` | str | the kind's | The log group to read (default: the kind's own, where it has one). |\n"
        "| `log_patterns` | list | [] | Metric filters with an alarm each: a built-in name or `{name, pattern, severity}`; "
        "the log group must exist at deploy time. |\n"
        "| `log_queries` | bool | true | Saved Logs Insights queries for root-cause analysis (kinds with a log group). |\n\n"
        f"Built-in patterns: {builtins}.\n"
    )


def parse_component_logs(r: Any, pairs: dict[str, tuple[yaml.Node, yaml.Node]], path: str) -> ComponentLogs:
    """Read the log keys of one component; problems go to the reader `r` (a `SpecReader`)."""
    values: dict[str, Any] = {}
    if "log_group" in pairs:
        node = pairs["log_group"][1]
        group = r.scalar(node, f"{path}.log_group", str)
        if isinstance(group, str):
            if LOG_GROUP.match(group):
                values["log_group"] = group
            else:
                r.error(node, f"{path}.log_group", "expected a log group name: at most 512 letters, digits and . - _ / #")
    if "log_queries" in pairs:
        flag = r.scalar(pairs["log_queries"][1], f"{path}.log_queries", bool)
        if isinstance(flag, bool):
            values["log_queries"] = flag
    if "log_patterns" in pairs:
        node = pairs["log_patterns"][1]
        values["log_patterns"] = _patterns(r, node, f"{path}.log_patterns")
        values["patterns_at"] = node_location(node, r.file, f"{path}.log_patterns")
    return ComponentLogs(**values)


def _patterns(r: Any, node: yaml.Node, path: str) -> tuple[LogPattern, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        r.error(node, path, "expected a non-empty list of pattern names or {name, pattern, severity} mappings")
        return ()
    result: list[LogPattern] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(node.value):
        at = f"{path}[{index}]"
        pattern = _pattern(r, item, at)
        if pattern is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", pattern.name.lower())  # names that give the same alarm and metric names
        if key in seen:
            r.error(item, at, f"pattern '{pattern.name}' clashes with '{seen[key]}' (same CloudFormation logical ID); rename one")
            continue
        seen[key] = pattern.name
        result.append(pattern)
    return tuple(result)


def _pattern(r: Any, node: yaml.Node, path: str) -> LogPattern | None:

    location = node_location(node, r.file, path)
    if isinstance(node, yaml.ScalarNode):
        name = r.scalar(node, path, str)
        if not isinstance(name, str):
            return None
        if name not in BUILTIN_PATTERNS:
            r.error(node, path, f"unknown built-in pattern '{name}'{did_you_mean(name, BUILTIN_PATTERNS)}; built-ins: "
                                f"{', '.join(BUILTIN_PATTERNS)}, or give {{name, pattern}}")
            return None
        builtin = BUILTIN_PATTERNS[name]
        return LogPattern(name, builtin.pattern, builtin.severity, location, builtin=True)
    pairs = r.mapping(node, path, ("name", "pattern", "severity"), required=("name",))
    if pairs is None or "name" not in pairs:
        return None
    before = len(r.problems)
    name = r.scalar(pairs["name"][1], f"{path}.name", str)
    if isinstance(name, str) and not PATTERN_NAME.match(name):
        r.error(pairs["name"][1], f"{path}.name", "must start with a letter and use only letters, digits, '-' and '_' (at most 64)")
    known = BUILTIN_PATTERNS.get(name) if isinstance(name, str) else None
    text = known.pattern if known else None
    if "pattern" in pairs:
        text = r.scalar(pairs["pattern"][1], f"{path}.pattern", str)
        if isinstance(text, str):
            problem = _pattern_problem(text)
            if problem:
                r.error(pairs["pattern"][1], f"{path}.pattern", problem)
    elif known is None and isinstance(name, str):
        hint = did_you_mean(name, BUILTIN_PATTERNS)
        r.error(node, f"{path}.pattern", f"missing required key ('{name}' is not a built-in pattern{hint})")
    severity = known.severity if known else "critical"
    if "severity" in pairs:
        severity = r.scalar(pairs["severity"][1], f"{path}.severity", str)
        if isinstance(severity, str) and severity not in SEVERITIES:
            r.error(pairs["severity"][1], f"{path}.severity", f"'{severity}' is not one of {', '.join(SEVERITIES)}")
    if len(r.problems) > before or not isinstance(text, str):
        return None
    return LogPattern(name, text, severity, location, builtin=known is not None and "pattern" not in pairs)


def _pattern_problem(text: str) -> str:
    """What CloudWatch Logs would reject (PutMetricFilter: at most 1,024 characters; unbalanced quotes)."""
    if len(text) > MAX_FILTER_PATTERN:
        return f"a filter pattern has at most {MAX_FILTER_PATTERN} characters, got {len(text)}"
    if len(re.findall(r'(?<!\\)"', text)) % 2:
        return "unbalanced double quote: quote each term, e.g. '\"Task timed out\"'"
    if not text.strip():
        return "must not be empty (an empty pattern matches every log event)"
    return ""


def log_problems(component: Any, options: Any, logs: ComponentLogs) -> list[tuple[Location, str]]:
    """Cross-check the log keys with the kind: patterns need a log group."""
    if logs.log_patterns and logs.patterns_at and not (logs.log_group or component.log_group(options)):
        return [(logs.patterns_at, f"kind '{component.kind}' has no known log group; give 'log_group' (it must exist "
                                   "when the stack is deployed)")]
    return []
