"""The alarm model: metric, policy, docs. Built-in tables and `custom_alarms:` produce the same
objects, and the dashboard graphs every alarm's metric (metric math and anomaly bands included)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from mlmon_cli.alarm_model import AlarmDef, AlarmDocs, AlarmPolicy, AnomalyBand, Metric, MetricMath, tiers
from mlmon_cli.components import load_all
from mlmon_cli.core.build import build_template
from mlmon_cli.core.dashboard import MetricGraph, Section, body
from mlmon_cli.core.pipeline import load

from .conftest import GOLDEN

MEASURED = (Metric, MetricMath, AnomalyBand)


def test_every_table_alarm_is_a_metric_a_policy_and_docs() -> None:
    for name, kind in load_all().items():
        for alarm in kind.alarms:
            assert isinstance(alarm, AlarmDef), name
            assert isinstance(alarm.metric, MEASURED), (name, alarm.key)
            assert isinstance(alarm.policy, AlarmPolicy), (name, alarm.key)
            assert isinstance(alarm.docs, AlarmDocs), (name, alarm.key)
            assert alarm.docs.why and alarm.docs.first_step, (name, alarm.key)


def test_alarm_def_is_wiring_plus_three_parts() -> None:
    assert [f.name for f in fields(AlarmDef)] == ["key", "suffix", "metric", "policy", "docs", "event"]


def test_custom_alarms_are_read_into_the_same_model() -> None:
    spec = load((GOLDEN / "custom_alarms" / "spec.yaml").read_text(), "spec.yaml", base=GOLDEN / "custom_alarms")
    alarms = {c.name: c.alarm for c in spec.components[0].custom_alarms}
    plain, math, band = alarms["drift-tenure"], alarms["error-share"], alarms["traffic"]
    assert plain.metric == Metric("mlmon/quality", "feature_drift_psi", "Maximum", "ratio", dimensions=(),
                                  fixed=(("Model", "churn"), ("Feature", "tenure")))
    assert plain.policy == AlarmPolicy(">", 0.2, period=3600, severity="warning")
    assert isinstance(math.metric, MetricMath) and [i for i, _ in math.metric.metrics] == ["e", "i"]
    assert math.metric.metrics[0][1] == Metric("AWS/SageMaker", "Invocation5XXErrors", "Sum", dimensions=(),
                                               fixed=(("EndpointName", "churn-scoring"), ("VariantName", "AllTraffic")))
    assert isinstance(band.metric, AnomalyBand)
    assert (band.policy.comparison, band.policy.threshold, band.metric.unit) == ("both", 3.0, "sd")


def _widgets(template: dict) -> list[dict]:
    dashboards = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    return [w for d in dashboards for w in json.loads(d["Properties"]["DashboardBody"]["Fn::Sub"])["widgets"]
            if w["type"] == "metric"]


def test_math_and_anomaly_alarms_get_their_graph(tmp_path: Path) -> None:
    spec_text = """\
solution: graphs
notifications: {emails: [oncall@example.com]}
components:
  - kind: lambda
    name: fn
    function_name: fn
    alarms: {errors: false, throttles: false, duration_p90: false}
    custom_alarms:
      - name: error-share
        expression: "e / MAX([e, i])"
        metrics:
          e: {namespace: AWS/Lambda, metric: Errors, dimensions: {FunctionName: fn}, statistic: Sum}
          i: {namespace: AWS/Lambda, metric: Invocations, dimensions: {FunctionName: fn}, statistic: Sum}
        threshold: 0.05
        unit: fraction
      - name: traffic
        namespace: AWS/Lambda
        metric: Invocations
        dimensions: {FunctionName: fn}
        statistic: Sum
        anomaly: {band: 3, direction: below}
"""
    template = build_template(load(spec_text, "spec.yaml", base=tmp_path)).template.to_dict()
    graphs = {w["properties"]["title"]: w["properties"] for w in _widgets(template)}
    assert graphs["Custom-error-share"]["metrics"] == [
        ["AWS/Lambda", "Errors", "FunctionName", "fn", {"id": "e", "stat": "Sum", "visible": False}],
        ["AWS/Lambda", "Invocations", "FunctionName", "fn", {"id": "i", "stat": "Sum", "visible": False}],
        [{"expression": "e / MAX([e, i])", "id": "expr", "label": "error-share"}],
    ]
    assert graphs["Custom-error-share"]["annotations"] == {"horizontal": [{"label": "alarm threshold", "value": 0.05}]}
    assert graphs["Custom-traffic"]["metrics"] == [
        ["AWS/Lambda", "Invocations", "FunctionName", "fn", {"id": "m1"}],
        [{"expression": "ANOMALY_DETECTION_BAND(m1, 3)", "id": "ad1", "label": "Invocations (expected band)"}],
    ]
    assert "annotations" not in graphs["Custom-traffic"]  # the band is the threshold


def test_one_metric_with_a_warning_and_a_critical_policy_is_drawn_once() -> None:
    metric = Metric("AWS/Lambda", "Duration", "p90", "ms")
    warning, critical = tiers("duration", "Duration", metric, AlarmDocs("slow", "look"),
                              warning=AlarmPolicy(">", 5000), critical=AlarmPolicy(">", 10000))
    assert (warning.key, warning.suffix, warning.policy.severity) == ("duration_warning", "DurationWarning", "warning")
    assert (critical.key, critical.suffix, critical.policy.severity) == ("duration", "Duration", "critical")
    assert warning.metric is critical.metric
    dims = {"FunctionName": "fn"}
    graphs = [MetricGraph(a.suffix, a.metric, dims, "p90", 300, a.policy.threshold) for a in (warning, critical)]
    widgets = [w for w in json.loads(body([Section("fn", [], graphs)]))["widgets"] if w["type"] == "metric"]
    assert len(widgets) == 1
    assert widgets[0]["properties"]["annotations"]["horizontal"] == [
        {"label": "DurationWarning threshold", "value": 5000}, {"label": "Duration threshold", "value": 10000}]
