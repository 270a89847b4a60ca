"""Read a generated template as a graph: which alarms notify, which composites name which children."""

from __future__ import annotations

import re
from typing import Any

CHILD = re.compile(r'ALARM\("\$\{([A-Za-z0-9]+(?:\.Arn|\.Outputs\.[A-Za-z0-9]+))\}"\)')


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def composite_children(template: dict[str, Any]) -> dict[str, list[str]]:
    """Composite logical ID -> child logical IDs, read from the Fn::Sub rule."""
    result = {}
    for name, res in resources_of(template, "AWS::CloudWatch::CompositeAlarm").items():
        rule = res["Properties"]["AlarmRule"]["Fn::Sub"]
        expressions = CHILD.findall(rule)
        assert rule == " OR ".join(f'ALARM("${{{e}}}")' for e in expressions), f"unexpected rule form in {name}"
        result[name] = [e.split(".")[0] for e in expressions]
    return result


def notifies(resource: dict[str, Any], topic: Any) -> bool:
    props = resource["Properties"]
    return props.get("ActionsEnabled", True) and topic in props.get("AlarmActions", [])


def unreachable_alarms(template: dict[str, Any], topic: Any) -> list[str]:
    """Metric alarms from which no path of notifying alarms/composites reaches the topic."""
    parents: dict[str, list[str]] = {}
    for composite, children in composite_children(template).items():
        for child in children:
            parents.setdefault(child, []).append(composite)
    all_alarms = {**resources_of(template, "AWS::CloudWatch::Alarm"), **resources_of(template, "AWS::CloudWatch::CompositeAlarm")}

    def reaches(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in seen:
            return False
        if notifies(all_alarms[name], topic):
            return True
        return any(reaches(p, seen | {name}) for p in parents.get(name, []))

    return sorted(name for name in resources_of(template, "AWS::CloudWatch::Alarm") if not reaches(name))
