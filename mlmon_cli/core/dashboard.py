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
from ..limits import MAX_DASHBOARD_COMPONENTS as MAX_COMPONENTS
from .composites import AlarmRef

METRICS_PER_COMPONENT = 4
from ..limits import MAX_ALARMS_PER_WIDGET

WIDTH = 24


@dataclass(frozen=True)
class MetricGraph:
    """One metric an alarm watches, as the dashboard draws it (threshold as a horizontal line)."""

    title: str
    namespace: str
    metric: str
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
        graphs = [g for g in section.graphs if _metric_row(g) is not None][:METRICS_PER_COMPONENT]
        for column, graph in enumerate(graphs):
            widgets.append({"type": "metric", "x": column * 6, "y": y, "width": 6, "height": 6, "properties": {
                "title": graph.title, "region": "${AWS::Region}", "view": "timeSeries", "stat": graph.statistic,
                "period": graph.period, "metrics": [_metric_row(graph)],
                "annotations": {"horizontal": [{"label": "alarm threshold", "value": graph.threshold}]},
            }})
        y += 6 if graphs else 0
    return json.dumps({"widgets": widgets}, separators=(",", ":"), sort_keys=True)


def _metric_row(graph: MetricGraph) -> list[Any] | None:
    row: list[Any] = [graph.namespace, graph.metric]
    for name, value in graph.dimensions.items():
        text = sub_text(value)
        if text is None:
            return None
        row += [name, text]
    return row
