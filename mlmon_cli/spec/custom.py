"""`custom_alarms`: an alarm on any metric, metric-math expression or anomaly band, on any component.

```yaml
- kind: bedrock_model
  name: claude
  model_id: anthropic.claude-3-5-sonnet-20240620-v1:0
  custom_alarms:
    - name: drift-psi                      # a metric the team publishes itself
      namespace: mlmon/quality             # (see the README's "Model health" convention)
      metric: feature_drift_psi
      dimensions: {Model: churn, Feature: tenure}
      statistic: Maximum
      threshold: 0.2
      unit: ratio
      period: 3600
      severity: warning
    - name: error-share                    # metric math: ReturnData only on the expression
      expression: "e / MAX([e, i])"
      metrics:
        e: {namespace: AWS/Bedrock, metric: InvocationServerErrors, dimensions: {ModelId: m}, statistic: Sum}
        i: {namespace: AWS/Bedrock, metric: Invocations, dimensions: {ModelId: m}, statistic: Sum}
      threshold: 0.05
      unit: fraction
    - name: input-tokens                   # anomaly detection (AnomalyDetector + band alarm)
      namespace: AWS/Bedrock
      metric: InputTokenCount
      dimensions: {ModelId: m}
      statistic: Sum
      period: 3600
      anomaly: {band: 3, direction: above,
                excluded_time_ranges: [{start: "2026-11-02T00:00:00", end: "2026-11-03T00:00:00"}]}
```

The same checks as built-in alarms (period 10, 30 or a multiple of 60; datapoints_to_alarm <=
evaluation_periods; period x evaluation_periods within CloudWatch's window; the statistic grammar;
a threshold in range for its `unit`); the alarms join the component's composite of their severity.
`unit` (count, ms, s, fraction, ratio, percent) validates the threshold and names it in the
description; the threshold is compared in the metric's own unit (no conversion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..alarm_model import MLMON_DEFAULT, AlarmDef, AlarmDocs, AlarmPolicy, AnomalyBand, Measured, Metric, MetricMath
from ..errors import Location, did_you_mean
from ..limits import (
    ANOMALY_OPERATORS,
    MAX_DIMENSIONS,
    MAX_METRIC_MATH_METRICS,
    METRIC_QUERY_ID,
    STATISTIC,
    TREAT_MISSING_DATA,
    alarm_window_problems,
    period_problem,
    substitution_problem,
)
from .fields import SEVERITIES, threshold_problem
from .nodes import node_location

KEY = "custom_alarms"
SETTLE = "aws cloudwatch list-metrics --namespace {namespace} --metric-name {metric}"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
UNIT_CHOICES = ("count", "ms", "s", "fraction", "ratio", "percent")
COMPARISON_CHOICES = (">", ">=", "<", "<=")
DIRECTIONS = tuple(ANOMALY_OPERATORS)
ENTRY_KEYS = ("name", "namespace", "metric", "dimensions", "statistic", "expression", "metrics", "comparison", "threshold",
              "unit", "period", "evaluation_periods", "datapoints_to_alarm", "treat_missing_data", "severity", "why",
              "first_step", "anomaly")


@dataclass(frozen=True)
class CustomAlarm:
    """One `custom_alarms` entry, validated: the alarm itself (the same model as built-in alarms) and
    where it was written. The dimensions are the metric's `fixed` ones (the whole set)."""

    name: str
    location: Location
    alarm: AlarmDef


def _alarm(name: str, v: dict[str, Any]) -> AlarmDef:
    """The entry's values as an `AlarmDef`: metric (plain, math or band), policy, docs."""
    caveat = ""
    statistic = v.get("statistic", "Average")
    unit = v.get("unit", "count")
    comparison, threshold = v.get("comparison", ">"), v.get("threshold")
    metric: Measured
    if "expression" in v:
        members = v.get("metrics", ())
        metric = MetricMath(
            v["expression"], members, label=name, unit=unit,
            name=f"{v['expression']} where " + ", ".join(f"{i} = {m.statistic} of {m.name}" for i, m in members),
            namespace=", ".join(dict.fromkeys(m.namespace for _, m in members)),
        )
    else:
        plain = Metric(v["namespace"], v["metric"], statistic, unit, dimensions=(), fixed=v.get("dimensions", ()))
        metric = plain
        if "anomaly" in v:
            band = v["anomaly"]
            metric = AnomalyBand(plain, band.get("excluded", ()), band.get("timezone", ""))
            comparison, threshold = band.get("direction", "above"), band.get("band", 2.0)
            caveat = "Anomaly band from an AWS::CloudWatch::AnomalyDetector trained on this metric (about two weeks of data)"
            if metric.excluded:
                caveat += "; excluded time ranges: " + ", ".join(f"{s} to {e}" for s, e in metric.excluded)
            caveat += "."
        else:
            caveat = f"Custom metric: check it exists with '{SETTLE.format(namespace=plain.namespace, metric=plain.name)}'."
    policy = AlarmPolicy(comparison, threshold, period=v.get("period", 300), evaluation_periods=v.get("evaluation_periods", 1),
                         datapoints_to_alarm=v.get("datapoints_to_alarm", 1),
                         treat_missing_data=v.get("treat_missing_data", "notBreaching"), severity=v.get("severity", "critical"))
    docs = AlarmDocs(v.get("why") or f"custom alarm '{name}' breached",
                     v.get("first_step") or "open the metric in CloudWatch and compare with recent changes",
                     MLMON_DEFAULT if not v.get("why") else "defined in the spec", caveat)
    return AlarmDef(f"custom_{name}", f"Custom-{name}", metric, policy, docs)


def reference_markdown() -> str:
    """The README's table of the `custom_alarms` keys (docs.py)."""
    rows = [
        ("name", "str", "**required**", "Letters, digits, `-`, `_`; the alarm is `<solution>-<component>-Custom-<name>`."),
        ("namespace, metric", "str", "-", "The metric (any namespace, AWS or your own)."),
        ("dimensions", "mapping", "{}", "Exact dimension set (name: value); a missing or extra dimension is another series."),
        ("statistic", "str", "Average", "Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99."),
        ("expression, metrics", "str, mapping", "-", "Metric math instead of `metric`: `metrics` maps ids to "
         "{namespace, metric, dimensions, statistic} (at most 10)."),
        ("comparison, threshold", "str, float", "`>`, required", "`>`, `>=`, `<` or `<=` and the threshold in the metric's unit."),
        ("unit", "str", "count", "count, ms, s, fraction, ratio or percent: validates the threshold, names it in the description."),
        ("period, evaluation_periods, datapoints_to_alarm", "int", "300, 1, 1", "As for built-in alarms."),
        ("treat_missing_data, severity", "str", "notBreaching, critical", "As for built-in alarms."),
        ("why, first_step", "str", "-", "Written into the AlarmDescription."),
        ("anomaly", "mapping", "-", "Anomaly detection instead of a threshold: `band` (standard deviations, default 2), "
         "`direction` (above, below, both), `excluded_time_ranges` [{start, end}] (ISO-8601, UTC), `timezone`."),
    ]
    table = "\n".join(f"| `{k}` | {t} | {d} | {m} |" for k, t, d, m in rows)
    return ("Every component also takes `custom_alarms`, a list of alarms on any metric, metric-math expression or "
            "anomaly band (see [Custom metrics](#custom-metrics-and-model-health-without-model-monitor)):\n\n"
            "| key | type | default | meaning |\n|---|---|---|---|\n" + table + "\n")


def parse_custom_alarms(r: Any, pairs: dict[str, tuple[yaml.Node, yaml.Node]], path: str) -> tuple[CustomAlarm, ...]:
    """Read a component's `custom_alarms`; problems go to the reader `r` (a `SpecReader`)."""
    if KEY not in pairs:
        return ()
    node = pairs[KEY][1]
    path = f"{path}.{KEY}"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        r.error(node, path, "expected a non-empty list of alarms")
        return ()
    result: list[CustomAlarm] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(node.value):
        at = f"{path}[{index}]"
        alarm = _entry(r, item, at)
        if alarm is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", alarm.name.lower())
        if key in seen:
            r.error(item, f"{at}.name", f"'{alarm.name}' differs from '{seen[key]}' only in case or punctuation; rename one")
            continue
        seen[key] = alarm.name
        result.append(alarm)
    return tuple(result)


def _entry(r: Any, node: yaml.Node, path: str) -> CustomAlarm | None:
    pairs = r.mapping(node, path, ENTRY_KEYS, required=("name",))
    if pairs is None or "name" not in pairs:
        return None
    before = len(r.problems)
    values: dict[str, Any] = {}
    name = _get(r, pairs, path, "name", str)
    if name is not None and not NAME.match(name):
        r.error(pairs["name"][1], f"{path}.name", "must start with a letter and use only letters, digits, '-' and '_' (at most 64)")
    _texts(r, pairs, path, values)
    for key, choices in (("comparison", COMPARISON_CHOICES), ("unit", UNIT_CHOICES), ("treat_missing_data", TREAT_MISSING_DATA),
                         ("severity", SEVERITIES)):
        _choice(r, pairs, path, values, key, choices)
    _statistic(r, pairs, path, values)
    _windows(r, pairs, path, values)
    if "dimensions" in pairs:
        values["dimensions"] = _dimensions(r, pairs["dimensions"][1], f"{path}.dimensions")
    threshold = _get(r, pairs, path, "threshold", float)
    if threshold is not None:
        problem = threshold_problem(values.get("unit", "count"), threshold)
        if problem:
            r.error(pairs["threshold"][1], f"{path}.threshold", problem)
        values["threshold"] = threshold
    if "metrics" in pairs:
        values["metrics"] = _metrics(r, pairs["metrics"][1], f"{path}.metrics")
    if "anomaly" in pairs:
        values["anomaly"] = _anomaly(r, pairs["anomaly"][1], f"{path}.anomaly")
    _cross_checks(r, node, path, pairs, values)
    if len(r.problems) > before or name is None:
        return None
    return CustomAlarm(name, node_location(node, r.file, path), _alarm(name, values))


Pairs = dict[str, tuple[yaml.Node, yaml.Node]]


def _get(r: Any, pairs: Pairs, path: str, key: str, typ: type) -> Any:
    """The value of `key` if given and of type `typ` (else None; a wrong type is reported)."""
    if key not in pairs:
        return None
    value = r.scalar(pairs[key][1], f"{path}.{key}", typ)
    return value if isinstance(value, typ) else None


def _choice(r: Any, pairs: Pairs, path: str, values: dict[str, Any], key: str, choices: tuple[str, ...]) -> None:
    value = _get(r, pairs, path, key, str)
    if value is None:
        return
    if value not in choices:
        r.error(pairs[key][1], f"{path}.{key}", f"'{value}' is not one of {', '.join(choices)}{did_you_mean(value, choices)}")
    else:
        values[key] = value


def _texts(r: Any, pairs: Pairs, path: str, values: dict[str, Any]) -> None:
    """Free-text keys: kept as written, but a `${` that CloudFormation would substitute is refused."""
    for key in ("namespace", "metric", "expression", "why", "first_step"):
        value = _get(r, pairs, path, key, str)
        if value is not None:
            problem = substitution_problem(value)
            if problem:
                r.error(pairs[key][1], f"{path}.{key}", problem)
            values[key] = value


def _statistic(r: Any, pairs: Pairs, path: str, values: dict[str, Any]) -> None:
    stat = _get(r, pairs, path, "statistic", str)
    if stat is None:
        return
    if STATISTIC.match(stat):
        values["statistic"] = stat
    else:
        r.error(pairs["statistic"][1], f"{path}.statistic",
                f"'{stat}' is not a statistic: use Sum, Average, Maximum, Minimum, SampleCount or a percentile like p99")


def _windows(r: Any, pairs: Pairs, path: str, values: dict[str, Any]) -> None:
    """period (a CloudWatch period), evaluation_periods and datapoints_to_alarm (at least 1)."""
    for key in ("period", "evaluation_periods", "datapoints_to_alarm"):
        value = _get(r, pairs, path, key, int)
        if value is None:
            continue
        if key == "period" and period_problem(value):
            r.error(pairs[key][1], f"{path}.period", period_problem(value))
        elif value < 1:
            r.error(pairs[key][1], f"{path}.{key}", f"must be at least 1, got {value}")
        else:
            values[key] = value


def _cross_checks(r: Any, node: yaml.Node, path: str, pairs: dict, values: dict[str, Any]) -> None:
    single = "metric" in pairs
    math = "expression" in pairs
    if single == math:
        r.error(node, path, "give either 'metric' (with 'namespace') or 'expression' (with 'metrics')")
    if single and "namespace" not in pairs:
        r.error(node, f"{path}.namespace", "missing required key (the metric's namespace)")
    if math:
        for key in ("metrics",):
            if key not in pairs:
                r.error(node, f"{path}.{key}", "missing required key (the metrics the expression uses, by id)")
        for key in ("namespace", "dimensions", "statistic"):
            if key in pairs:
                r.error(pairs[key][0], f"{path}.{key}", "not used with 'expression': give it per metric under 'metrics'")
        if "anomaly" in pairs:
            r.error(pairs["anomaly"][0], f"{path}.anomaly", "anomaly detection needs a single 'metric', not an 'expression'")
    elif "metrics" in pairs:
        r.error(pairs["metrics"][0], f"{path}.metrics", "only used with 'expression'")
    if "anomaly" in pairs:
        for key in ("threshold", "comparison"):
            if key in pairs:
                r.error(pairs[key][0], f"{path}.{key}", "not used with 'anomaly' (the band is the threshold; use anomaly.direction)")
    elif "threshold" not in pairs:
        r.error(node, f"{path}.threshold", "missing required key (or give 'anomaly')")
    for problem in alarm_window_problems(values.get("period", 300), values.get("evaluation_periods", 1),
                                         values.get("datapoints_to_alarm", 1)):
        key = "datapoints_to_alarm" if problem.startswith("datapoints") else "evaluation_periods"
        at = pairs.get(key, pairs.get("period", (node, node)))[1]
        r.error(at, f"{path}.{key}", problem)


def _dimensions(r: Any, node: yaml.Node, path: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(node, yaml.MappingNode):
        r.error(node, path, "expected a mapping of dimension name to value")
        return ()
    dims = []
    for key, value in node.value:
        v = r.scalar(value, f"{path}.{key.value}", str)
        if isinstance(v, str):
            dims.append((str(key.value), v))
        if isinstance(v, str) and substitution_problem(v):
            r.error(value, f"{path}.{key.value}", substitution_problem(v))
    if len(dims) > MAX_DIMENSIONS:
        r.error(node, path, f"CloudWatch allows at most {MAX_DIMENSIONS} dimensions, got {len(dims)}")
    return tuple(dims)


def _metrics(r: Any, node: yaml.Node, path: str) -> tuple[tuple[str, Metric], ...]:
    if not isinstance(node, yaml.MappingNode) or not node.value:
        r.error(node, path, "expected a mapping of metric id to {namespace, metric, dimensions, statistic}")
        return ()
    if len(node.value) > MAX_METRIC_MATH_METRICS:
        r.error(node, path, f"a metric-math alarm uses at most {MAX_METRIC_MATH_METRICS} metrics, got {len(node.value)}")
    result = []
    for key, value in node.value:
        mid = str(key.value)
        at = f"{path}.{mid}"
        if not METRIC_QUERY_ID.match(mid) or mid == "expr":
            r.error(key, at, "a metric id starts with a lower-case letter, uses letters, digits and '_' (and is not 'expr')")
            continue
        pairs = r.mapping(value, at, ("namespace", "metric", "dimensions", "statistic"), required=("namespace", "metric", "statistic"))
        if pairs is None or not all(k in pairs for k in ("namespace", "metric", "statistic")):
            continue
        ns = r.scalar(pairs["namespace"][1], f"{at}.namespace", str)
        name = r.scalar(pairs["metric"][1], f"{at}.metric", str)
        stat = r.scalar(pairs["statistic"][1], f"{at}.statistic", str)
        if isinstance(stat, str) and not STATISTIC.match(stat):
            r.error(pairs["statistic"][1], f"{at}.statistic", f"'{stat}' is not a statistic: use Sum, Average, Maximum, Minimum, "
                                                              "SampleCount or a percentile like p99")
            continue
        dims = _dimensions(r, pairs["dimensions"][1], f"{at}.dimensions") if "dimensions" in pairs else ()
        if all(isinstance(v, str) for v in (ns, name, stat)):
            result.append((mid, Metric(ns, name, stat, dimensions=(), fixed=dims)))
    return tuple(result)


def _anomaly(r: Any, node: yaml.Node, path: str) -> dict[str, Any] | None:
    pairs = r.mapping(node, path, ("band", "direction", "excluded_time_ranges", "timezone"))
    if pairs is None:
        return None
    values: dict[str, Any] = {}
    if "band" in pairs:
        band = r.scalar(pairs["band"][1], f"{path}.band", float)
        if isinstance(band, float):
            if band <= 0:
                r.error(pairs["band"][1], f"{path}.band", f"must be greater than 0 (standard deviations), got {band:g}")
            values["band"] = band
    if "direction" in pairs:
        direction = r.scalar(pairs["direction"][1], f"{path}.direction", str)
        if isinstance(direction, str):
            if direction not in DIRECTIONS:
                r.error(pairs["direction"][1], f"{path}.direction", f"'{direction}' is not one of {', '.join(DIRECTIONS)}")
            values["direction"] = direction
    if "timezone" in pairs:
        tz = r.scalar(pairs["timezone"][1], f"{path}.timezone", str)
        if isinstance(tz, str):
            values["timezone"] = tz
    if "excluded_time_ranges" in pairs:
        values["excluded"] = _excluded_ranges(r, pairs["excluded_time_ranges"][1], f"{path}.excluded_time_ranges")
    return values


def _excluded_ranges(r: Any, ranges_node: yaml.Node, at: str) -> tuple[tuple[str, str], ...]:
    """The {start, end} ISO-8601 ranges the anomaly model leaves out of its training."""
    ranges: list[tuple[str, str]] = []
    if not isinstance(ranges_node, yaml.SequenceNode):
        r.error(ranges_node, at, "expected a list of {start, end}")
        return ()
    for i, item in enumerate(ranges_node.value):
        inner = r.mapping(item, f"{at}[{i}]", ("start", "end"), required=("start", "end"))
        if inner is None or "start" not in inner or "end" not in inner:
            continue
        # the raw text: an unquoted 2026-11-02T00:00:00 is a YAML timestamp, not a string
        start, end = (inner[k][1].value if isinstance(inner[k][1], yaml.ScalarNode) else
                      r.scalar(inner[k][1], f"{at}[{i}].{k}", str) for k in ("start", "end"))
        ok = True
        for k, v in (("start", start), ("end", end)):
            if isinstance(v, str) and not ISO_TIME.match(v):
                r.error(inner[k][1], f"{at}[{i}].{k}", f"expected an ISO-8601 time like 2026-11-02T00:00:00, got '{v}'")
                ok = False
        if ok and isinstance(start, str) and isinstance(end, str):
            if end <= start:
                r.error(inner["end"][1], f"{at}[{i}].end", f"must be after start ({start})")
            else:
                ranges.append((start, end))
    return tuple(ranges)
