"""A CloudWatch dashboard per template: every component's key metrics and its alarm status.

The body is JSON inside Fn::Sub, so alarm ARNs (`${Alarm.Arn}`) and the Region resolve at deploy
time. Dimension values that are intrinsics (a state machine ARN built with Fn::Sub, a Ref)
are inlined as Sub text. Limits respected: at most 100 alarms per alarm widget and at most
MAX_COMPONENTS components per dashboard (each gets a header, an alarm-status widget and up
to METRICS_PER_COMPONENT metric graphs), well under the 500-widget limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from troposphere import AWSHelperFn, Sub, Template
from troposphere.cloudwatch import Dashboard

from .. import naming
from ..components.base import AnomalyBand, Measured, MetricMath
from ..limits import MAX_ALARMS_PER_WIDGET
from ..limits import MAX_DASHBOARD_COMPONENTS as MAX_COMPONENTS
from .composites import AlarmRef
from .metric_math import band_expression, member_dimensions

METRICS_PER_COMPONENT = 4

WIDTH = 24


@dataclass(frozen=True)
class MetricGraph:
    """One metric as the dashboard draws it: a plain metric, a math expression over its (hidden)
    metrics, or a metric with its anomaly band; the threshold is a horizontal line (a band alarm's
    threshold is the band itself, so it has none)."""

    title: str
    metric: Measured
    dimensions: dict[str, Any]
    statistic: str
    period: int
    threshold: float


@dataclass(frozen=True)
class Section:
    """One component's part of the dashboard."""

    title: str
    alarms: list[AlarmRef]
    graphs: list[MetricGraph]


def sub_text(value: Any) -> str | None:
    """Text for `value` inside an Fn::Sub string, or None when it cannot be inlined."""
    if isinstance(value, str):
        return value.replace("${", "${!")
    if isinstance(value, AWSHelperFn):
        data = value.to_dict()
        if "Ref" in data:
            return f"${{{data['Ref']}}}"
        if "Fn::GetAtt" in data:
            return "${" + ".".join(data["Fn::GetAtt"]) + "}"
        if "Fn::Sub" in data and isinstance(data["Fn::Sub"], str):
            return data["Fn::Sub"]
    return None


def add_dashboards(t: Template, solution: str, sections: list[Section], label: str = "") -> None:
    """Add one dashboard per MAX_COMPONENTS sections (names `<solution>[-label][-n]`)."""
    chunks = [sections[i:i + MAX_COMPONENTS] for i in range(0, len(sections), MAX_COMPONENTS)]
    for index, chunk in enumerate(chunks, start=1):
        suffix = [label] if label else []
        if len(chunks) > 1:
            suffix.append(str(index))
        name = naming.dashboard_name(solution, *suffix)
        logical = naming.dashboard_id(*suffix)
        t.add_resource(Dashboard(logical, DashboardName=name, DashboardBody=Sub(body(chunk))))


def body(sections: list[Section]) -> str:
    widgets: list[dict[str, Any]] = []
    y = 0
    for section in sections:
        widgets.append({"type": "text", "x": 0, "y": y, "width": WIDTH, "height": 1,
                        "properties": {"markdown": f"## {section.title}"}})
        y += 1
        for start in range(0, len(section.alarms), MAX_ALARMS_PER_WIDGET):
            group = section.alarms[start:start + MAX_ALARMS_PER_WIDGET]
            widgets.append({"type": "alarm", "x": 0, "y": y, "width": WIDTH, "height": 2 + len(group) // 4,
                            "properties": {"title": "Alarm status", "alarms": [f"${{{a.arn_expression}}}" for a in group],
                                           "sortBy": "stateUpdatedTimestamp"}})
            y += 2 + len(group) // 4
        drawn = _drawn(section.graphs, METRICS_PER_COMPONENT)
        for column, (graph, rows, thresholds) in enumerate(drawn):
            properties = {"title": graph.title, "region": "${AWS::Region}", "view": "timeSeries", "stat": graph.statistic,
                          "period": graph.period, "metrics": rows}
            if thresholds:
                properties["annotations"] = {"horizontal": thresholds}
            widgets.append({"type": "metric", "x": column * 6, "y": y, "width": 6, "height": 6, "properties": properties})
        y += 6 if drawn else 0
    return json.dumps({"widgets": widgets}, separators=(",", ":"), sort_keys=True)


def _drawn(graphs: list[MetricGraph], most: int) -> list[tuple[MetricGraph, list[list[Any]], list[dict[str, Any]]]]:
    """The first `most` series drawn, one graph each (a metric judged by a warning and a critical
    policy is drawn once, with both thresholds); graphs whose dimensions cannot be written into the
    body are left out."""
    drawn: dict[str, tuple[MetricGraph, list[list[Any]], list[dict[str, Any]]]] = {}
    for graph in graphs:
        rows = metric_rows(graph)
        if rows is None:
            continue
        key = repr((rows, graph.statistic, graph.period))
        if key not in drawn and len(drawn) == most:
            continue  # a later policy on a series already drawn still adds its line
        first = drawn.setdefault(key, (graph, rows, []))
        if not isinstance(graph.metric, AnomalyBand):
            line = {"label": "alarm threshold", "value": graph.threshold}
            if first[2]:  # a second policy on the same series: name each line by its alarm
                first[2][0]["label"] = f"{first[0].title} threshold"
                line["label"] = f"{graph.title} threshold"
            first[2].append(line)
    return list(drawn.values())


def metric_rows(graph: MetricGraph) -> list[list[Any]] | None:
    """The widget's `metrics` array (Dashboard Body Structure, "Metric Widget: Format for Each Metric
    in the Array": [namespace, name, dimension name, value, ..., {options}], an expression as
    [{expression, label, id}]); None when a dimension value cannot be written into the body."""
    metric = graph.metric
    if isinstance(metric, MetricMath):
        rows = []
        for mid, member in metric.metrics:
            row = _series(member.namespace, member.name, member_dimensions(member, graph.dimensions))
            if row is None:
                return None
            rows.append([*row, {"id": mid, "stat": member.statistic, "visible": False}])
        return [*rows, [{"expression": metric.expression, "id": "expr", "label": metric.label or metric.name}]]
    row = _series(metric.namespace, metric.name, graph.dimensions)
    if row is None:
        return None
    if isinstance(metric, AnomalyBand):
        return [[*row, {"id": "m1"}],
                [{"expression": band_expression(graph.threshold), "id": "ad1", "label": f"{metric.name} (expected band)"}]]
    return [row]


def _series(namespace: str, name: str, dimensions: dict[str, Any]) -> list[Any] | None:
    row: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        text = sub_text(value)
        if text is None:
            return None
        row += [key, text]
    return row
