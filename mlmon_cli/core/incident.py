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
from collections.abc import Callable
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


# One shared, never-modified value: built per alarm it cost a sixth of a 1,200-component generate.
_PROPAGATE_TAGS = ActionConfiguration(AlarmTagsPropagation=AlarmTagsPropagation(Enabled=True))


def finish(templates: list[Any], spec: Spec, environment: str, owners: dict[str, str], severities: dict[str, str],
           topics: dict[str, Any]) -> None:
    """Tag, propagate, add the all-clear and the low-sample setting on every template of a build."""
    components = {c.name: c for c in spec.components}
    rule_severity = _rule_severities(templates, severities)
    low_samples = spec.defaults.low_sample_percentiles or "ignore"
    ok_topics = _ok_topics(spec, topics)
    all_people = _all_people(topics)
    key = _Keys()
    tag_lists: dict[tuple[str, str], list[dict[str, str]]] = {}
    arns = {severity: incident_action_arns(spec, severity) for severity in ("critical", "warning")}
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
            tags = tag_lists.get((component, severity))
            if tags is None:  # one list per component and severity, shared (never modified)
                values = {
                    "solution": spec.solution, "component": component, "kind": comp.kind if comp else component,
                    "severity": severity, "environment": environment or "default",
                    "owner": (comp.owner if comp and comp.owner else spec.owner) or "",
                    "runbook": (comp.runbook_url if comp and comp.runbook_url else ""),
                }
                # plain {Key, Value} pairs, sorted: core/organization.py reads the `severity` and `component` tags back
                tags = tag_lists[(component, severity)] = [{"Key": k, "Value": values[k][:TAG_VALUE_MAX]}
                                                           for k in sorted(TAG_KEYS) if values[k]]
            props["Tags"] = tags
            if kind == RULE:
                continue
            if props.get("AlarmActions"):
                props["ActionConfiguration"] = _PROPAGATE_TAGS
            _add_incident_actions(props, topics, severity, arns.get(severity, []), key)
            people = [a for a in props.get("AlarmActions") or [] if key(a) in ok_topics]
            if people:
                props["OKActions"] = people
            elif props.get("OKActions") and all(key(a) in all_people for a in props["OKActions"]):
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


def _add_incident_actions(props: dict[str, Any], topics: dict[str, Any], severity: str, arns: list[Any],
                          key: Callable[[Any], str]) -> None:
    """Append the incident actions of the alarm's severity's route when it notifies that route's
    topic (not when it reaches people through a composite, which carries them instead)."""
    actions = list(props.get("AlarmActions") or [])
    keys = {key(a) for a in actions}
    if arns and key(topics[severity]) in keys:
        props["AlarmActions"] = actions + [a for a in arns if key(a) not in keys]


def _key(value: Any) -> str:
    return repr(value.to_dict()) if hasattr(value, "to_dict") else repr(value)


class _Keys:
    """`_key`, computed once per object of a build: every alarm's actions are the same few topic
    objects, and encoding them again per alarm was a tenth of a 6,000-component generate."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[Any, str]] = {}  # id -> (the object, kept so its id is not reused; its key)

    def __call__(self, value: Any) -> str:
        hit = self.seen.get(id(value))
        if hit is None or hit[0] is not value:
            hit = self.seen[id(value)] = (value, _key(value))
        return hit[1]


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
