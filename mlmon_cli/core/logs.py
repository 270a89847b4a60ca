"""Logs: a metric filter and an alarm per `log_patterns` entry, and saved Logs Insights queries.

The log group is the component's `log_group` key or the kind's own (`Component.log_group`).
A metric filter counts matching events into `mlmon/<solution>` `<component>-<pattern>` with
MetricValue 1 and no DefaultValue (the metric is sparse: no datapoint when nothing matched), so
its alarm is Sum >= 1 with missing data notBreaching. The alarms are `ExtraAlarm`s and join the
component's composites like any other alarm. See mlmon_cli/spec/logs.py for why filters are
opt-in and queries are not.
"""

from __future__ import annotations

import re
from typing import Any

from .. import naming
from ..components.base import AlarmDef, AlarmDocs, AlarmPolicy, BuildEnv, Component, ExtraAlarm, Metric
from ..spec.logs import BUILTIN_PATTERNS, FAILURE_REGEX, LogPattern
from ..spec.model import ComponentSpec
from .template import quick

PATTERN_PERIOD = 300
# Case-insensitive words that mark a failure in most runtimes' logs (Logs Insights regex).


def log_group(kind: Component, comp: ComponentSpec) -> str | None:
    return comp.logs.log_group or kind.log_group(comp.options)


def _shared(kind: Component, comp: ComponentSpec) -> bool:
    """True when the group is the kind's own shared one (the spec did not name another)."""
    return not comp.logs.log_group and kind.log_group_shared


def metric_name(comp: ComponentSpec, pattern: LogPattern) -> str:
    return naming.log_metric_name(comp.name, pattern.name)


def namespace(solution: str) -> str:
    return naming.log_metric_namespace(solution)


def pattern_alarm(kind: Component, comp: ComponentSpec, env: BuildEnv, pattern: LogPattern, group: str) -> AlarmDef:
    builtin = BUILTIN_PATTERNS.get(pattern.name) if pattern.builtin else None
    why = builtin.why if builtin else f"log events matched the '{pattern.name}' pattern"
    first_step = builtin.first_step if builtin else "run the saved 'Latest failures' query or filter the log group with the same pattern"
    caveat = (f"Metric filter on {group} with pattern {pattern.pattern}; it counts events ingested after it was created, "
              "and the log group must exist when the stack is deployed.")
    if _shared(kind, comp):
        caveat += " The log group is shared by other resources of the same service, whose matches count too."
    return AlarmDef(
        f"log_{pattern.name}", f"LogPattern-{pattern.name}",
        Metric(namespace(env.solution), metric_name(comp, pattern), "Sum", dimensions=()),
        AlarmPolicy(">=", 1, period=PATTERN_PERIOD, severity=pattern.severity),
        AlarmDocs(why, first_step, caveat=caveat),
    )


def log_alarms(kind: Component, comp: ComponentSpec, env: BuildEnv) -> list[ExtraAlarm]:
    """One alarm per log pattern (no dimensions: the metric filter publishes none)."""
    group = log_group(kind, comp)
    if not group:
        return []
    return [ExtraAlarm(pattern_alarm(kind, comp, env, p, group), {}) for p in comp.logs.log_patterns]


def log_resources(kind: Component, comp: ComponentSpec, env: BuildEnv) -> list[Any]:
    """The metric filters of `log_patterns` and the saved queries (unless `log_queries: false`)."""
    from troposphere.logs import MetricFilter, MetricTransformation, QueryDefinition

    group = log_group(kind, comp)
    logs = comp.logs
    if not group:
        return []
    resources: list[Any] = [
        MetricFilter(
            env.logical_id("LogPattern", p.name, "Filter"),
            FilterName=naming.metric_filter_name(env.solution, comp.name, p.name),
            LogGroupName=group,
            FilterPattern=p.pattern,
            MetricTransformations=[MetricTransformation(
                MetricNamespace=namespace(env.solution), MetricName=metric_name(comp, p), MetricValue="1")],
        )
        for p in logs.log_patterns
    ]
    if logs.log_queries:
        for title, query in queries(kind, comp).items():
            resources.append(quick(QueryDefinition, env.logical_id("Query", title), {
                "Name": naming.query_definition_name(env.solution, comp.name, title),
                "QueryString": query,
                "LogGroupNames": [group],
            }))
    return resources


def queries(kind: Component, comp: ComponentSpec) -> dict[str, str]:
    """Title -> Logs Insights query: the generic ones, then the kind's own (same title wins)."""
    prefix = kind.log_stream_prefix(comp.options)
    narrow = ""
    if prefix and not comp.logs.log_group:
        narrow = f"| filter @logStream like /^{_regex_literal(prefix)}/\n"
    generic = {
        "Errors by hour": (
            "fields @timestamp, @message\n" + narrow
            + f"| filter @message like {FAILURE_REGEX}\n"
            "| stats count(*) as errors by bin(1h) as hour\n"
            "| sort hour desc"
        ),
        "Latest failures": (
            "fields @timestamp, @logStream, @message\n" + narrow
            + f"| filter @message like {FAILURE_REGEX}\n"
            "| sort @timestamp desc\n"
            "| limit 50"
        ),
    }
    return {**generic, **kind.log_queries(comp.options)}


def _regex_literal(text: str) -> str:
    """`text` as a literal inside a Logs Insights /regex/."""
    return re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", text)
