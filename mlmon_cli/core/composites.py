"""Composite alarms that roll children up, nested so any spec stays within CloudWatch's limits.

A composite rule may name at most 100 children and be at most 10,240 characters. Children are
referenced by ARN (`ALARM("${Child.Arn}")` through Fn::Sub), which also makes CloudFormation
create every child before the composite that names it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from troposphere import Sub, Template
from troposphere.cloudwatch import CompositeAlarm

from .. import limits
from ..limits import MAX_COMPOSITE_CHILDREN as MAX_CHILDREN
from ..limits import MAX_COMPOSITE_RULE_CHARS as MAX_RULE_CHARS
from ..naming import composite_part_id, composite_part_name
from ..render import render
from .template import quick

_TEXT_DEFAULTS = {"solution": "", "watched": "", "part": 0, "parent": "", "severity": "critical", "runbook": "", "records": False}


def composite_text(**values: Any) -> str:
    """A composite's AlarmDescription (templates/composite_description.txt.j2); `scope` picks the wording."""
    return render("composite_description.txt.j2", **{**_TEXT_DEFAULTS, **values})

# Longest ARN prefix a child can have: arn:aws-us-gov:cloudwatch:<longest region>:<account>:alarm:
ARN_PREFIX_CHARS = len("arn:aws-iso-b:cloudwatch:ap-southeast-7:123456789012:alarm:") + 6
_ENTRY_OVERHEAD = len('ALARM("") OR ')


@dataclass(frozen=True)
class AlarmRef:
    """A child alarm: its logical ID, physical name (for sizing the rule) and how Fn::Sub reaches its ARN.

    `arn` is `<LogicalId>.Arn` for an alarm in the same template, or
    `<NestedStack>.Outputs.<Output>` for a composite that lives in a nested stack.
    """

    logical_id: str
    name: str
    arn: str = ""

    @property
    def arn_expression(self) -> str:
        return self.arn or f"{self.logical_id}.Arn"


def rule_chars(children: list[AlarmRef]) -> int:
    """Upper bound of the deployed rule's length once ARNs are substituted."""
    return sum(_ENTRY_OVERHEAD + ARN_PREFIX_CHARS + len(c.name) for c in children)


def chunk(children: list[AlarmRef]) -> list[list[AlarmRef]]:
    """Split children, in order, into groups that each fit one composite rule."""
    groups: list[list[AlarmRef]] = [[]]
    for child in children:
        group = groups[-1]
        if group and (len(group) >= MAX_CHILDREN or rule_chars([*group, child]) > MAX_RULE_CHARS):
            groups.append([])
        groups[-1].append(child)
    return groups


def any_alarm_rule(children: list[AlarmRef]) -> Sub:
    return Sub(" OR ".join(f'ALARM("${{{c.arn_expression}}}")' for c in children))


def add_composite(
    t: Template,
    logical_id: str,
    name: str,
    children: list[AlarmRef],
    describe: Callable[..., str],
    actions: list[Any],
    ok_actions: bool = False,
    suppressor: str | None = None,
) -> AlarmRef:
    """Add a composite in ALARM when any child is; nest through part composites when needed.

    Only the top composite carries `actions`; parts exist to respect the limits and stay quiet.
    `suppressor` names an existing alarm (e.g. in ALARM while a deployment runs) that suppresses
    the top composite's actions while it is in ALARM (ActionsSuppressor).
    """
    numbers = itertools.count(1)
    groups = chunk(children)
    while len(groups) > 1:
        parts = []
        for group in groups:
            number = next(numbers)
            part = AlarmRef(composite_part_id(logical_id, number), composite_part_name(name, number))
            text = describe(scope="group", part=number, parent=name, count=len(group), notifies=False)
            _composite(t, part, group, text, [])
            parts.append(part)
        groups = chunk(parts)
    top = AlarmRef(logical_id, name)
    _composite(t, top, groups[0], describe(count=len(groups[0]), notifies=bool(actions)), actions, ok_actions,
               suppressor if actions else None)
    return top


def _composite(t: Template, ref: AlarmRef, children: list[AlarmRef], description: str, actions: list[Any], ok_actions: bool = False,
               suppressor: str | None = None) -> None:
    props: dict[str, Any] = {
        "AlarmName": ref.name,
        "AlarmDescription": description[:limits.ALARM_DESCRIPTION_MAX],
        "AlarmRule": any_alarm_rule(children),
        "ActionsEnabled": True,
    }
    if actions:
        props["AlarmActions"] = actions
        if ok_actions:
            props["OKActions"] = actions
    if suppressor:
        props["ActionsSuppressor"] = Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
                                         + suppressor.replace("${", "${!"))
        props["ActionsSuppressorWaitPeriod"] = limits.SUPPRESSOR_WAIT_SECONDS
        props["ActionsSuppressorExtensionPeriod"] = limits.SUPPRESSOR_EXTENSION_SECONDS
    t.add_resource(quick(CompositeAlarm, ref.logical_id, props))
