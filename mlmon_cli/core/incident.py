"""The incident path, applied to every alarm, composite and rule once the templates are built.

- **Tags** (`solution`, `component`, `kind`, `severity`, `environment`, and `owner`, `runbook` where
  the spec gives them) on every `AWS::CloudWatch::Alarm`, `AWS::CloudWatch::CompositeAlarm` and
  `AWS::Events::Rule`, so receivers route on them instead of parsing alarm names.
- **Tag propagation**: every alarm and composite with actions sets
  `ActionConfiguration.AlarmTagsPropagation.Enabled`, so SNS messages (email, HTTPS), Lambda
  targets and the `CloudWatch Alarm State Change` event carry the tags (not OpsItems, Incident
  Manager or investigations; `aws:` keys never). troposphere 4.11.1 lacks the property: the
  classes below write it. Source: AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html,
  APIReference/API_AlarmTagsPropagation.html (aws-ml-facts-3 §1).
- **All-clear**: an alarm or composite that notifies a route's topic also notifies it on OK when
  the route keeps `ok_notifications` (the default), so a pager resolves the incident it opened.
- **Low-sample percentiles**: every percentile alarm sets `EvaluateLowSampleCountPercentile`
  (`ignore` unless `defaults.low_sample_percentiles: evaluate`): AWS applies it below 10/(1-p)
  samples, e.g. 1,000 for p99 (AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
  "Percentile-based alarms and low data samples").
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from troposphere import AWSProperty, Sub
from troposphere.validators import boolean

from .. import naming
from ..spec.model import Spec

ALARM, COMPOSITE, RULE = "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::Events::Rule"
TAG_KEYS = ("solution", "component", "kind", "severity", "environment", "owner", "runbook")
TAG_VALUE_MAX = 256
_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")
_SEVERITY_IN_NAME = re.compile(r"-(Critical|Warning)(?:-|$)")


class AlarmTagsPropagation(AWSProperty):
    """`AWS::CloudWatch::Alarm` / `CompositeAlarm` `ActionConfiguration.AlarmTagsPropagation`."""

    props: ClassVar[dict[str, Any]] = {"Enabled": (boolean, True), "IncludedTagKeys": ([str], False),
                                       "ExcludedTagKeys": ([str], False)}


class ActionConfiguration(AWSProperty):
    props: ClassVar[dict[str, Any]] = {"AlarmTagsPropagation": (AlarmTagsPropagation, False)}


def finish(templates: list[Any], spec: Spec, environment: str, owners: dict[str, str], severities: dict[str, str],
           topics: dict[str, Any]) -> None:
    """Tag, propagate, add the all-clear and the low-sample setting on every template of a build."""
    components = {c.name: c for c in spec.components}
    rule_severity = _rule_severities(templates, severities)
    low_samples = spec.defaults.low_sample_percentiles or "ignore"
    ok_topics = _ok_topics(spec, topics)
    for t in templates:
        for logical, resource in t.resources.items():
            kind = resource.resource_type
            if kind not in (ALARM, COMPOSITE, RULE):
                continue
            props = resource.properties
            name = props.get("AlarmName") if kind != RULE else props.get("Name")
            component = owners.get(logical) or _scope(str(name), spec.solution)
            comp = components.get(component)
            if kind == ALARM:
                severity = severities.get(logical) or _severity_of(props)
            elif kind == COMPOSITE:
                found = _SEVERITY_IN_NAME.search(str(name))
                severity = found.group(1).lower() if found else "critical"
            else:
                severity = rule_severity.get(str(name), "info")
            values = {
                "solution": spec.solution, "component": component, "kind": comp.kind if comp else component,
                "severity": severity, "environment": environment or "default",
                "owner": (comp.owner if comp and comp.owner else spec.owner) or "",
                "runbook": (comp.runbook_url if comp and comp.runbook_url else ""),
            }
            # plain {Key, Value} pairs, sorted: core/organization.py reads the `severity` and `component` tags back
            props["Tags"] = [{"Key": k, "Value": values[k][:TAG_VALUE_MAX]} for k in sorted(TAG_KEYS) if values[k]]
            if kind == RULE:
                continue
            if props.get("AlarmActions"):
                props["ActionConfiguration"] = ActionConfiguration(AlarmTagsPropagation=AlarmTagsPropagation(Enabled=True))
            _add_incident_actions(props, spec, topics, severity)
            people = [a for a in props.get("AlarmActions") or [] if _key(a) in ok_topics]
            if people:
                props["OKActions"] = people
            elif props.get("OKActions") and all(_key(a) in _all_people(topics) for a in props["OKActions"]):
                del props["OKActions"]
            if kind == ALARM and _PERCENTILE.match(str(props.get("ExtendedStatistic", ""))):
                props["EvaluateLowSampleCountPercentile"] = low_samples


def incident_action_arns(spec: Spec, severity: str) -> list[Any]:
    """The alarm-action ARNs of a route's `incident_actions`: an OpsItem
    (`arn:aws:ssm:<region>:<account>:opsitem:<severity>#CATEGORY=<category>`), a CloudWatch
    investigation group, an existing Incident Manager response plan (aws-ml-facts-3 §1, §7)."""
    actions = spec.notifications.route(severity).incident_actions
    if actions is None:
        return []
    out: list[Any] = []
    if actions.opsitem_severity is not None and actions.opsitem_category:
        out.append(Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:opsitem:"
                       f"{actions.opsitem_severity}#CATEGORY={actions.opsitem_category}"))
    out += [a for a in (actions.investigation_group_arn, actions.response_plan_arn) if a]
    return out


def _add_incident_actions(props: dict[str, Any], spec: Spec, topics: dict[str, Any], severity: str) -> None:
    """Append the incident actions of the alarm's severity's route when it notifies that route's
    topic (not when it reaches people through a composite, which carries them instead)."""
    actions = list(props.get("AlarmActions") or [])
    keys = {_key(a) for a in actions}
    if severity in ("critical", "warning") and _key(topics[severity]) in keys:
        props["AlarmActions"] = actions + [a for a in incident_action_arns(spec, severity) if _key(a) not in keys]


def _key(value: Any) -> str:
    return repr(value.to_dict()) if hasattr(value, "to_dict") else repr(value)


def _ok_topics(spec: Spec, topics: dict[str, Any]) -> set[str]:
    """The people's topics whose route sends the all-clear."""
    n = spec.notifications
    return {_key(topics[severity]) for severity in ("critical", "warning") if n.route(severity).ok_notifications}


def _all_people(topics: dict[str, Any]) -> set[str]:
    return {_key(topics["critical"]), _key(topics["warning"])}


def _rule_severities(templates: list[Any], severities: dict[str, str]) -> dict[str, str]:
    """Rule name -> the severity of the alarm on its TriggeredRules."""
    out = {}
    for t in templates:
        for logical, resource in t.resources.items():
            props = resource.properties
            if resource.resource_type == ALARM and props.get("MetricName") == "TriggeredRules":
                for dim in props.get("Dimensions") or []:
                    value = dim.properties.get("Value") if hasattr(dim, "properties") else dim.get("Value")
                    if _dim_name(dim) == "RuleName" and isinstance(value, str):
                        out[value] = severities.get(logical) or _severity_of(props)
    return out


def _dim_name(dim: Any) -> str:
    return str(dim.properties.get("Name") if hasattr(dim, "properties") else dim.get("Name"))


def _severity_of(props: dict[str, Any]) -> str:
    text = str(props.get("AlarmDescription", ""))
    return "warning" if text.startswith("[warning]") else "critical"


def _scope(name: str, solution: str) -> str:
    """The component tag of mlmon's own alarms: the alert path, or the solution's composites."""
    if name.startswith(naming.alarm_name(solution, "alert-path")):
        return "alert-path"
    return "solution"
