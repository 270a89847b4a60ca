"""SageMaker Model Monitor alarms of an endpoint: data-quality drift per feature, model quality.

```yaml
data_quality:                          # a data-quality monitoring schedule on the endpoint
  schedule_name: churn-dq
  features:
    age: 0.2                           # feature_baseline_drift_age > 0.2
    tenure: {threshold: 0.3, evaluation_periods: 3}   # above 0.3 for 3 consecutive periods
model_quality:                         # a model-quality schedule (needs ground truth)
  schedule_name: churn-mq
  metrics:
    accuracy: {min: 0.8}               # accuracy < 0.8
    rmse: {max: 5.0}                   # rmse > 5.0
```

Both blocks also take `period` (default 3600: the metrics are published once per monitoring
run, hourly at most), `evaluation_periods` (default 1), `datapoints_to_alarm` (default: all of
them, i.e. consecutive periods), `severity` (default warning)
for all their entries, and `namespace` and `dimensions` (the full mapping) to override what
mlmon emits. Why the override: AWS's sources disagree (reference facts §1.7). The data-quality
page says `/aws/sagemaker/Endpoints/data-metric` with EndpointName, ScheduleName; the BYOC page
`/aws/sagemaker/Endpoint/data-metrics`; the SDK's dashboards add a `Feature` dimension. mlmon
defaults to what endpoints actually emit per AWS's drift-detection sample (a captured alarm
event): `aws/sagemaker/Endpoints/data-metrics` and `aws/sagemaker/Endpoints/model-metrics`, with
dimensions Endpoint and MonitoringSchedule. Every description says so and names the
`aws cloudwatch list-metrics` command that settles it in your account.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import naming
from ..errors import Location
from ..limits import MAX_DIMENSIONS, alarm_window_problems
from ..spec.convert import MISSING, SpecReader
from ..spec.model import SEVERITIES, doc
from ..spec.nodes import node_location
from .base import AlarmDef, AlarmDocs, AlarmPolicy, ExtraAlarm, Metric

DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
DRIFT_PREFIX = "feature_baseline_drift_"
DEFAULT_PERIOD = 3600
GROUP = "ModelHealth"
NAME = re.compile(r"^[!-~]([ -~]{0,198}[!-~])?$")  # printable ASCII, no outer spaces, at most 200
# Model-quality metrics Model Monitor publishes (binary and multiclass classification, regression).
KNOWN_MODEL_METRICS = (
    "accuracy", "precision", "recall", "f0_5", "f1", "f2", "auc", "au_prc", "true_positive_rate",
    "true_negative_rate", "false_positive_rate", "false_negative_rate", "weighted_precision", "weighted_recall",
    "weighted_f0_5", "weighted_f1", "weighted_f2", "mae", "mse", "rmse", "r2",
)


@dataclass(frozen=True)
class _Settings:
    """How often and for how long an entry must breach; a block's values are its entries' defaults."""

    period: int | None = field(default=None, metadata=doc("Seconds per datapoint (a multiple of 60).", minimum=60, maximum=86_400))
    evaluation_periods: int | None = field(default=None, metadata=doc("N of 'M out of N'.", minimum=1))
    datapoints_to_alarm: int | None = field(default=None, metadata=doc("M of 'M out of N'.", minimum=1))
    severity: str | None = field(default=None, metadata=doc("critical or warning.", choices=SEVERITIES))


@dataclass(frozen=True)
class _Feature(_Settings):
    threshold: float | None = field(default=None, metadata=doc("Drift distance above which to alarm (0 to 1)."))


@dataclass(frozen=True)
class _Metric(_Settings):
    min: float | None = field(default=None, metadata=doc("Alarm when the metric falls below this floor."))
    max: float | None = field(default=None, metadata=doc("Alarm when the metric rises above this ceiling."))


@dataclass(frozen=True)
class MonitorAlarm:
    """One feature's drift or one model-quality metric, with its final numbers."""

    name: str
    comparison: str  # ">" or "<"
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    severity: str
    location: Location


@dataclass(frozen=True)
class Monitor:
    """A data-quality or model-quality monitoring schedule and the alarms on what it publishes."""

    kind: str  # "data" or "model"
    schedule_name: str
    alarms: tuple[MonitorAlarm, ...]
    namespace: str | None = None
    dimensions: tuple[tuple[str, str], ...] | None = None
    location: Location | None = None

    def effective_namespace(self) -> str:
        return self.namespace or (DATA_NAMESPACE if self.kind == "data" else MODEL_NAMESPACE)

    def effective_dimensions(self, endpoint: str) -> dict[str, str]:
        if self.dimensions is not None:
            return dict(self.dimensions)
        return {"Endpoint": endpoint, "MonitoringSchedule": self.schedule_name}


def parse_data_quality(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "data")


def parse_model_quality(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "model")


def _parse(r: SpecReader, node: yaml.Node, path: str, kind: str) -> Any:
    entries_key = "features" if kind == "data" else "metrics"
    settings_keys = [f.name for f in dataclasses.fields(_Settings)]
    before = len(r.problems)
    pairs = r.mapping(node, path, ["schedule_name", entries_key, *settings_keys, "namespace", "dimensions"],
                      required=("schedule_name", entries_key))
    if pairs is None:
        return MISSING
    schedule = r.scalar(pairs["schedule_name"][1], f"{path}.schedule_name", str) if "schedule_name" in pairs else MISSING
    defaults = r.dataclass(_Settings, {k: v for k, v in pairs.items() if k in settings_keys}, path)
    _check_period(r, pairs, path, defaults)
    namespace = None
    if "namespace" in pairs:
        namespace = r.scalar(pairs["namespace"][1], f"{path}.namespace", str)
        if isinstance(namespace, str) and (len(namespace) > 255 or namespace.startswith(":")):
            r.error(pairs["namespace"][1], f"{path}.namespace", "a namespace has 1 to 255 characters and must not start with ':'")
    dimensions = _dimensions(r, pairs["dimensions"][1], f"{path}.dimensions") if "dimensions" in pairs else None
    alarms: list[MonitorAlarm] = []
    if entries_key in pairs:
        alarms = _entries(r, pairs[entries_key][1], f"{path}.{entries_key}", kind, defaults)
    if len(r.problems) > before:
        return MISSING
    return Monitor(kind, schedule, tuple(alarms), namespace, dimensions, node_location(node, r.file, path))


def _check_period(r: SpecReader, pairs: dict, path: str, values: dict[str, Any]) -> None:
    period = values.get("period")
    if period is not None and period % 60:
        r.error(pairs["period"][1], f"{path}.period", f"must be a multiple of 60 seconds, got {period}")


def _dimensions(r: SpecReader, node: yaml.Node, path: str) -> Any:
    if not isinstance(node, yaml.MappingNode) or not node.value:
        r.error(node, path, "expected a mapping of dimension name to value, e.g. {Endpoint: my-endpoint, MonitoringSchedule: my-schedule}")
        return None
    if len(node.value) > MAX_DIMENSIONS:
        r.error(node, path, f"an alarm has at most {MAX_DIMENSIONS} dimensions, got {len(node.value)}")
        return None
    result = []
    for key, value in node.value:
        name = r.scalar(key, path, str)
        text = r.scalar(value, f"{path}.{key.value}", str)
        if isinstance(name, str) and isinstance(text, str):
            result.append((name, text))
    return tuple(result)


def _entries(r: SpecReader, node: yaml.Node, path: str, kind: str, defaults: dict[str, Any]) -> list[MonitorAlarm]:
    noun = "feature" if kind == "data" else "metric"
    if not isinstance(node, yaml.MappingNode) or not node.value:
        example = "{age: 0.2}" if kind == "data" else "{accuracy: {min: 0.8}}"
        r.error(node, path, f"expected a non-empty mapping of {noun} name to its threshold, e.g. {example}")
        return []
    alarms: list[MonitorAlarm] = []
    seen: dict[str, str] = {}
    for key, value in node.value:
        name = str(key.value)
        at = f"{path}.{name}"
        if not NAME.match(name) or (kind == "data" and len(DRIFT_PREFIX + name) > 255):
            r.error(key, at, f"a {noun} name is 1 to 200 printable ASCII characters without leading or trailing spaces")
            continue
        if '"' in name or "\\" in name or "${" in name:  # the name is part of an alarm name a composite rule quotes
            r.error(key, at, f"a {noun} name must not contain '\"', '\\' or '${{': it becomes part of an alarm name "
                             "that composite alarm rules quote")
            continue
        if kind == "model" and name not in KNOWN_MODEL_METRICS and name.lower() in KNOWN_MODEL_METRICS:
            r.error(key, at, f"Model Monitor publishes '{name.lower()}' (lower case); CloudWatch names are case sensitive")
            continue
        same = naming.logical_id(name)
        if same in seen:
            r.error(key, at, f"'{name}' and '{seen[same]}' give the same CloudFormation logical ID (only letters and digits "
                             "are kept); watch one of them from a second component")
            continue
        seen[same] = name
        alarm = _entry(r, value, at, kind, name, defaults)
        if alarm is not None:
            alarms.append(alarm)
    return alarms


def _entry(r: SpecReader, node: yaml.Node, path: str, kind: str, name: str, defaults: dict[str, Any]) -> MonitorAlarm | None:
    before = len(r.problems)
    if kind == "data" and isinstance(node, yaml.ScalarNode):  # `age: 0.2` shorthand
        threshold = r.scalar(node, path, float)
        if threshold is MISSING:
            return None
        values: dict[str, Any] = {"threshold": threshold}
    else:
        cls = _Feature if kind == "data" else _Metric
        pairs = r.mapping(node, path, [f.name for f in dataclasses.fields(cls)],
                          required=("threshold",) if kind == "data" else ())
        if pairs is None:
            return None
        values = r.dataclass(cls, pairs, path)
        _check_period(r, pairs, path, values)
        if kind == "model" and ("min" in pairs) == ("max" in pairs):
            r.error(node, path, f"give exactly one of 'min' (alarm below a floor, e.g. accuracy) or 'max' (alarm above a "
                                f"ceiling, e.g. rmse) for '{name}'")
    if kind == "data" and values.get("threshold") is not None and not 0 <= values["threshold"] <= 1:
        at = node if isinstance(node, yaml.ScalarNode) else next(v for k, v in node.value if k.value == "threshold")
        r.error(at, path if at is node else f"{path}.threshold",
                f"a drift threshold is a distance between 0 and 1, got {values['threshold']:g}")
    if len(r.problems) > before:
        return None
    merged = {k: (values.get(k) if values.get(k) is not None else defaults.get(k)) for k in ("period", "evaluation_periods",
                                                                                         "datapoints_to_alarm", "severity")}
    period = merged["period"] or DEFAULT_PERIOD
    evaluation_periods = merged["evaluation_periods"] or 1
    datapoints = merged["datapoints_to_alarm"] or evaluation_periods
    if kind == "data":
        comparison, threshold = ">", values["threshold"]
    else:
        comparison, threshold = ("<", values["min"]) if values.get("min") is not None else (">", values["max"])
    for problem in alarm_window_problems(period, evaluation_periods, datapoints):
        r.error(node, path, problem)
    if len(r.problems) > before:
        return None
    return MonitorAlarm(name, comparison, threshold, period, evaluation_periods, datapoints, merged["severity"] or "warning",
                        node_location(node, r.file, path))


def _caveat(monitor: Monitor) -> str:
    namespace = monitor.effective_namespace()
    verify = f"Verify: aws cloudwatch list-metrics --namespace {namespace}"
    if monitor.namespace or monitor.dimensions is not None:
        return f"[unverified] namespace and dimensions as set in the spec (AWS sources disagree). {verify}."
    block = "data_quality" if monitor.kind == "data" else "model_quality"
    docs = ("a doc page says /aws/sagemaker/Endpoints/data-metric with EndpointName, ScheduleName"
            if monitor.kind == "data" else "SDK dashboards use other dimension sets")
    return (f"[unverified] AWS sources disagree on namespace and dimensions ({docs}); these are what endpoints emit. "
            f"{verify}; override with {block}.namespace/dimensions.")


def monitor_alarms(monitor: Monitor, endpoint: str) -> list[ExtraAlarm]:
    """The ModelHealth alarms of one schedule on one endpoint."""
    dims = monitor.effective_dimensions(endpoint)
    namespace = monitor.effective_namespace()
    caveat = _caveat(monitor)
    result = []
    for a in monitor.alarms:
        if monitor.kind == "data":
            metric, suffix, statistic = f"{DRIFT_PREFIX}{a.name}", f"FeatureDrift-{a.name}", "Maximum"
            why = f"feature '{a.name}' drifted from its Model Monitor baseline"
            first_step = (f"read constraint_violations.json of the latest execution of {monitor.schedule_name} "
                          "(aws sagemaker list-monitoring-executions)")
            unit = "ratio"
        else:
            metric, suffix = a.name, f"ModelQuality-{a.name}"
            statistic = "Minimum" if a.comparison == "<" else "Maximum"
            direction = "fell below its floor" if a.comparison == "<" else "rose above its ceiling"
            why = f"Model Monitor model-quality metric {a.name} {direction}"
            first_step = "compare recent ground truth with predictions and decide whether to retrain or roll back"
            unit = "count"
        alarm = AlarmDef(
            f"{'feature_drift' if monitor.kind == 'data' else 'model_quality'}_{a.name}", suffix,
            Metric(namespace, metric, statistic, unit),
            AlarmPolicy(a.comparison, a.threshold, period=a.period, evaluation_periods=a.evaluation_periods,
                        datapoints_to_alarm=a.datapoints_to_alarm, severity=a.severity),
            AlarmDocs(why, first_step, caveat=caveat),
        )
        result.append(ExtraAlarm(alarm, dict(dims), group=GROUP))
    return result
