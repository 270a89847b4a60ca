"""What the REST and HTTP API kinds share: the alarm table shape and reading stages from a template."""

from __future__ import annotations

from typing import Any

from ..spec.kind_facts import TemplateResource, property_text, ref_target, yaml_scalar
from .base import AWS_RECOMMENDED, AlarmDef, AlarmDocs, AlarmPolicy, Metric

NAMESPACE = "AWS/ApiGateway"

# AWS recommends a p90 Latency alarm per stage; its threshold is the API's own latency target.
# 2,500 ms is mlmon's default (a quarter of the 29 s integration timeout plus margin): tune it.
LATENCY_P90_MS = 2500


def error_rate_alarm(metric: str, caveat: str = "") -> AlarmDef:
    """Share of requests answered 5xx: the metric is 1 or 0 per request, so its Average is the rate."""
    return AlarmDef(
        "server_error_rate", "ServerErrorRate",
        Metric(NAMESPACE, metric, "Average", "fraction"),
        AlarmPolicy(">", 0.05, period=60, evaluation_periods=3, datapoints_to_alarm=3),
        AlarmDocs(
            why=f"more than 5 % of requests ended in a server-side error ({metric}): the backend (a Lambda function, "
                "a SageMaker endpoint) failed, timed out or the integration is misconfigured",
            first_step="open the stage's execution or access logs and the integration's own errors (e.g. the function's "
                       "Errors, the endpoint's Invocation5XXErrors) for the same minutes",
            source=AWS_RECOMMENDED, caveat=caveat))


def latency_alarm(caveat: str = "") -> AlarmDef:
    return AlarmDef(
        "latency_p90", "LatencyP90",
        Metric(NAMESPACE, "Latency", "p90", "ms"),
        AlarmPolicy(">", LATENCY_P90_MS, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
        AlarmDocs(
            why="the slowest 10 % of requests took longer than the threshold (Latency: from request received to "
                "response sent, integration included) for 5 minutes",
            first_step="compare Latency with IntegrationLatency: if they move together the backend is slow (cold "
                       "starts, a busy endpoint), else API Gateway itself (authorizers, mapping templates)",
            source=AWS_RECOMMENDED,
            caveat=("The 2,500 ms threshold is mlmon's default, not AWS's number: set it to your API's latency target "
                    "(`alarms: {latency_p90: {threshold: ...}}`). " + caveat).strip()))


def stage_texts(resource: TemplateResource, stage_types: tuple[str, ...], api_property: str) -> tuple[list[str], bool]:
    """The stage names (Fn::Sub text) the template gives the API: StageName of every resource of
    `stage_types` whose `api_property` refers to it, deduplicated; and whether one is unreadable."""
    found: list[str] = []
    unreadable = False
    for view in resource.app.views():
        if view.type not in stage_types or ref_target(view.properties.get(api_property)) != resource.logical:
            continue
        if "StageName" not in view.properties:
            continue
        text = property_text({"Properties": view.properties}, "StageName")
        if text is None or resource.unresolved(text):
            unreadable = True
        elif text not in found:
            found.append(text)
    return found, unreadable


def spec_value(text: str) -> str:
    """Fn::Sub text as a spec YAML value: a literal stays plain, `${X}` becomes !Ref X, else !Sub."""
    if "${" not in text:
        return yaml_scalar(text)
    inner = text[2:-1]
    if text.startswith("${") and text.endswith("}") and "${" not in inner:
        return f"!GetAtt {inner}" if "." in inner else f"!Ref {inner}"
    return "!Sub '" + text.replace("'", "''") + "'"


def stage_lines(stages: list[str], unreadable: bool, whole_api: str) -> list[str]:
    """`stage:` when the template gives the API exactly one, else why the alarms watch the whole API."""
    if len(stages) == 1 and not unreadable:
        return [f"    stage: {spec_value(stages[0])}   # the API's only stage in this template"]
    if not stages:
        why = "a stage name this template cannot tell" if unreadable else "no stage in this template"
    else:
        why = f"{len(stages)} stages ({', '.join(stages)})"
    return [f"    # {why}: the alarms watch the whole API ({whole_api}); give `stage:` to watch one stage"]


def literal(value: Any) -> str | None:
    """A property value as Fn::Sub text: a literal string, !Ref, !Sub or !GetAtt X.Attr; else None."""
    if isinstance(value, str):
        return value if "${" not in value else None
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return "${" + value["Ref"] + "}"
        if isinstance(value.get("Fn::Sub"), str):
            return str(value["Fn::Sub"])
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and len(att) == 2 and all(isinstance(a, str) for a in att):
            return "${" + ".".join(att) + "}"
        if isinstance(att, str) and "." in att:
            return "${" + att + "}"
    return None
