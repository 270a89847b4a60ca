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

SageMaker Clarify schedules on the same endpoint (AWS's pages name their namespace and dimensions):

```yaml
bias_drift:                            # clarify-model-monitor-bias-drift-cw
  schedule_name: churn-bias
  stage: Post-training                 # BiasStage: Pre-training or Post-training (as the schedule publishes it)
  label: churned                       # Label, LabelValue, Facet, FacetValue: from the analysis configuration
  label_value: "1"
  facet: gender
  facet_value: "0"
  metrics:
    DPPL: {max: 0.1}                   # bias_metric_DPPL > 0.1
feature_attribution_drift:             # clarify-feature-attribute-drift-cw
  schedule_name: churn-explain
  features:
    age: {max: 0.4}                    # feature_age (its global SHAP value) > 0.4
```

Bias: namespace `aws/sagemaker/Endpoints/bias-metrics`, metric `bias_metric_<short name>`,
dimensions Endpoint, MonitoringSchedule, BiasStage, Label, LabelValue, Facet, FacetValue.
Feature attribution: `aws/sagemaker/Endpoints/explainability-metrics`, metric `feature_<name>`
(global SHAP value), dimensions Endpoint, MonitoringSchedule, ExplainabilityMethod (KernelShap),
Label (`label`, default `label0`) and ValueType (GlobalShapValues). AWS: Model Monitor is no longer
open to new customers (existing ones keep it); `+/- infinity` is published as +/- 2.348543e108 and
null results are not published (missing data notBreaching).
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
BIAS_NAMESPACE = "aws/sagemaker/Endpoints/bias-metrics"  # clarify-model-monitor-bias-drift-cw
EXPLAINABILITY_NAMESPACE = "aws/sagemaker/Endpoints/explainability-metrics"  # clarify-feature-attribute-drift-cw
NAMESPACES = {"data": DATA_NAMESPACE, "model": MODEL_NAMESPACE, "bias": BIAS_NAMESPACE,
              "explainability": EXPLAINABILITY_NAMESPACE}
METRIC_PREFIX = {"data": "feature_baseline_drift_", "model": "", "bias": "bias_metric_", "explainability": "feature_"}
BLOCKS = {"data": "data_quality", "model": "model_quality", "bias": "bias_drift", "explainability": "feature_attribution_drift"}
BIAS_STAGES = ("Pre-training", "Post-training")
# The Clarify blocks' own dimension values: option -> dimension (bias), with the page's fixed values (explainability).
BIAS_KEYS = {"stage": "BiasStage", "label": "Label", "label_value": "LabelValue", "facet": "Facet", "facet_value": "FacetValue"}
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

    kind: str  # "data", "model", "bias" or "explainability"
    schedule_name: str
    alarms: tuple[MonitorAlarm, ...]
    namespace: str | None = None
    dimensions: tuple[tuple[str, str], ...] | None = None
    location: Location | None = None
    own: tuple[tuple[str, str], ...] = ()  # the Clarify dimensions (BiasStage, Label, ...) after the first two

    def effective_namespace(self) -> str:
        return self.namespace or NAMESPACES[self.kind]

    def effective_dimensions(self, endpoint: str) -> dict[str, str]:
        if self.dimensions is not None:
            return dict(self.dimensions)
        return {"Endpoint": endpoint, "MonitoringSchedule": self.schedule_name, **dict(self.own)}


def parse_data_quality(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "data")


def parse_model_quality(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "model")


def parse_bias_drift(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "bias")


def parse_feature_attribution_drift(r: SpecReader, node: yaml.Node, path: str) -> Any:
    return _parse(r, node, path, "explainability")


def _own_keys(kind: str) -> tuple[list[str], tuple[str, ...]]:
    """(the block's Clarify dimension keys, the required ones)."""
    if kind == "bias":
        return list(BIAS_KEYS), tuple(BIAS_KEYS)
    return (["label"], ()) if kind == "explainability" else ([], ())


def _own(r: SpecReader, pairs: dict, path: str, kind: str) -> tuple[tuple[str, str], ...]:
    """The Clarify dimensions of a block, in the order AWS's page lists them."""
    if kind == "explainability":
        label = r.scalar(pairs["label"][1], f"{path}.label", str) if "label" in pairs else "label0"
        return (("ExplainabilityMethod", "KernelShap"), ("Label", label if isinstance(label, str) else ""),
                ("ValueType", "GlobalShapValues"))
    if kind != "bias":
        return ()
    values = []
    for key, dimension in BIAS_KEYS.items():
        if key in pairs:
            text = r.scalar(pairs[key][1], f"{path}.{key}", str)
            if key == "stage" and isinstance(text, str) and text not in BIAS_STAGES:
                r.error(pairs[key][1], f"{path}.{key}", f"expected one of {', '.join(BIAS_STAGES)}, got '{text}'")
            values.append((dimension, text if isinstance(text, str) else ""))
    return tuple(values)


def _parse(r: SpecReader, node: yaml.Node, path: str, kind: str) -> Any:
    entries_key = "features" if kind in ("data", "explainability") else "metrics"
    settings_keys = [f.name for f in dataclasses.fields(_Settings)]
    own_keys, own_required = _own_keys(kind)
    before = len(r.problems)
    pairs = r.mapping(node, path, ["schedule_name", entries_key, *own_keys, *settings_keys, "namespace", "dimensions"],
                      required=("schedule_name", entries_key, *own_required))
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
    own = _own(r, pairs, path, kind)
    if len(r.problems) > before or not isinstance(schedule, str):  # a missing schedule_name is a problem reported above
        return MISSING
    return Monitor(kind, schedule, tuple(alarms), namespace, dimensions, node_location(node, r.file, path), own)


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
    noun = "feature" if kind in ("data", "explainability") else "metric"
    if not isinstance(node, yaml.MappingNode) or not node.value:
        example = {"data": "{age: 0.2}", "model": "{accuracy: {min: 0.8}}", "bias": "{DPPL: {max: 0.1}}",
                   "explainability": "{age: {max: 0.4}}"}[kind]
        r.error(node, path, f"expected a non-empty mapping of {noun} name to its threshold, e.g. {example}")
        return []
    alarms: list[MonitorAlarm] = []
    seen: dict[str, str] = {}
    for key, value in node.value:
        name = str(key.value)
        at = f"{path}.{name}"
        if not NAME.match(name) or len(METRIC_PREFIX[kind] + name) > 255:
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
        if kind != "data" and ("min" in pairs) == ("max" in pairs):
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
    if monitor.kind == "bias":
        return (f"Namespace and dimensions from clarify-model-monitor-bias-drift-cw; [unverified] the BiasStage spelling "
                f"(the page writes Pre-training and Post-Training). {verify}.")
    if monitor.kind == "explainability":
        return f"Namespace and dimensions from clarify-feature-attribute-drift-cw (global SHAP value per feature). {verify}."
    block = BLOCKS[monitor.kind]
    docs = ("a doc page says /aws/sagemaker/Endpoints/data-metric with EndpointName, ScheduleName"
            if monitor.kind == "data" else "SDK dashboards use other dimension sets")
    return (f"[unverified] AWS sources disagree on namespace and dimensions ({docs}); these are what endpoints emit. "
            f"{verify}; override with {block}.namespace/dimensions.")


_TEXT = {  # kind -> (key prefix, suffix prefix, why, first step)
    "model": ("model_quality", "ModelQuality", "Model Monitor model-quality metric {name} {direction}",
              "compare recent ground truth with predictions and decide whether to retrain or roll back"),
    "bias": ("bias_drift", "BiasDrift", "SageMaker Clarify bias metric {name} {direction} (facet {facet})",
             "read the bias report of the latest execution of {schedule} in Studio or its constraint_violations.json"),
    "explainability": ("feature_attribution", "FeatureAttribution",
                       "the global SHAP attribution of feature '{name}' {direction}: the model leans on it differently",
                       "compare the latest explainability report of {schedule} with its baseline (nDCG of feature ranks)"),
}


def monitor_alarms(monitor: Monitor, endpoint: str) -> list[ExtraAlarm]:
    """The ModelHealth alarms of one schedule on one endpoint."""
    dims = monitor.effective_dimensions(endpoint)
    namespace = monitor.effective_namespace()
    caveat = _caveat(monitor)
    result = []
    for a in monitor.alarms:
        if monitor.kind == "data":
            key, metric, suffix, statistic = f"feature_drift_{a.name}", f"{DRIFT_PREFIX}{a.name}", f"FeatureDrift-{a.name}", "Maximum"
            why = f"feature '{a.name}' drifted from its Model Monitor baseline"
            first_step = (f"read constraint_violations.json of the latest execution of {monitor.schedule_name} "
                          "(aws sagemaker list-monitoring-executions)")
            unit = "ratio"
        else:
            prefix, label, why_text, step = _TEXT[monitor.kind]
            key, metric, suffix = f"{prefix}_{a.name}", METRIC_PREFIX[monitor.kind] + a.name, f"{label}-{a.name}"
            statistic = "Minimum" if a.comparison == "<" else "Maximum"
            direction = "fell below its floor" if a.comparison == "<" else "rose above its ceiling"
            why = why_text.format(name=a.name, direction=direction, facet=dims.get("Facet", "?"))
            first_step = step.format(schedule=monitor.schedule_name)
            unit = "count"
        alarm = AlarmDef(
            key, suffix,
            Metric(namespace, metric, statistic, unit),
            AlarmPolicy(a.comparison, a.threshold, period=a.period, evaluation_periods=a.evaluation_periods,
                        datapoints_to_alarm=a.datapoints_to_alarm, severity=a.severity),
            AlarmDocs(why, first_step, caveat=caveat),
        )
        result.append(ExtraAlarm(alarm, dict(dims), group=GROUP))
    return result
