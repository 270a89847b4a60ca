"""Split a large solution into nested stacks without breaking the alarm hierarchy.

Why hashing: a component's stack is chosen from the bits of a hash of its name (extendible
hashing: a group that is too big splits in two by the next bit). The grouping depends only on
the set of components, not their order, so adding one component changes the stack that
receives it (and the composites above), and moves nothing else unless that one stack
overflows and splits.

Each nested stack gets the alert topics as parameters with the topics' own logical IDs (so the
component resources' `Ref: AlertsTopic` keeps working unchanged), rolls its component
composites into one stack composite per severity, and exports their ARNs; the parent's
solution composites name them through `${Stack.Outputs.Stack<Severity>CompositeArn}`.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from troposphere import GetAtt, Output, Parameter, Ref, Template
from troposphere.cloudformation import Stack

from ..spec.model import SEVERITIES, Spec
from .. import naming
from .composites import AlarmRef, add_composite, composite_text
from .dashboard import Section, add_dashboards
from .template import new_template

# Per nested stack: CloudFormation allows 500 resources and 200 outputs; keep headroom for the
# stack composite (and its parts) and for growth before a group has to split.
STACK_RESOURCE_BUDGET = 400
STACKS_DIR = "stacks"
TOPIC_PARAMETER = "AlertsTopic"

Part = tuple[str, Template, dict[str, AlarmRef], Section]  # name, resources, composite per severity, dashboard section


def _bits(name: str) -> str:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "".join(f"{byte:08b}" for byte in digest)


def group(parts: list[Part], budget: int = STACK_RESOURCE_BUDGET) -> dict[str, list[Part]]:
    """Group parts by hash-prefix so each group's resources fit `budget`; keys are bit prefixes."""
    keyed = [(_bits(p[0]), p) for p in parts]

    def split(prefix: str, members: list[tuple[str, Part]]) -> dict[str, list[Part]]:
        size = sum(len(p[1].resources) for _, p in members)
        if size <= budget or len(prefix) >= 64 or len(members) <= 1:
            return {prefix: [p for _, p in members]} if members else {}
        depth = len(prefix)
        zero = [m for m in members if m[0][depth] == "0"]
        one = [m for m in members if m[0][depth] == "1"]
        return {**split(prefix + "0", zero), **split(prefix + "1", one)}

    return split("", keyed)


def stack_id(prefix: str) -> str:
    return naming.nested_stack_logical_id(prefix)


def add_nested_stacks(result: Any, spec: Spec, parts: list[Part], topics: dict[str, Any], ext: str = "yaml") -> dict[str, list[AlarmRef]]:
    """Fill `result.nested` with one template per group; add the Stack resources to the parent.

    Returns, per severity, the stack composites the parent's solution composites should name.
    """
    parent = result.template
    refs: dict[str, list[AlarmRef]] = {severity: [] for severity in SEVERITIES}
    topic_params = {value.data["Ref"]: value for value in topics.values() if isinstance(value, Ref)}
    for prefix, members in sorted(group(parts).items()):
        logical = stack_id(prefix)
        stem = naming.nested_stack_stem(prefix)
        nested, severities = _nested_template(spec, members, prefix, topic_params, ext)
        result.nested[stem] = nested
        parent.add_resource(Stack(logical, TemplateURL=f"{STACKS_DIR}/{stem}.{ext}", Parameters=topic_params or None))
        for severity in severities:
            label = severity.capitalize()
            name = naming.alarm_name(spec.solution, "Stack", prefix or "all", label)
            refs[severity].append(AlarmRef(logical, name, arn=f"{logical}.Outputs.Stack{label}CompositeArn"))
    return refs


def _nested_template(spec: Spec, members: list[Part], prefix: str, topic_params: dict[str, Any], ext: str) -> tuple[Template, list[str]]:
    t = new_template()
    t.set_description(f"mlmon monitoring for {spec.solution}: nested stack {prefix or 'all'} ({len(members)} components)")
    for name in topic_params:
        t.add_parameter(Parameter(name, Type="String", Description="ARN of one of the solution's alert topics"))
    for _, template, _, _ in members:
        for resource in template.resources.values():
            t.add_resource(resource)
    add_dashboards(t, spec.solution, [m[3] for m in members], label=prefix or "all")
    severities = []
    for severity in SEVERITIES:
        children = [m[2][severity] for m in members if severity in m[2]]
        if not children:
            continue
        label = severity.capitalize()
        logical = f"Stack{label}Composite"
        name = naming.alarm_name(spec.solution, "Stack", prefix or "all", label)
        add_composite(t, logical, name, children, partial(composite_text, scope="stack", solution=spec.solution, severity=severity), [])
        t.add_output(Output(f"Stack{label}CompositeArn", Description=f"Composite over this stack's {severity} composites",
                            Value=GetAtt(logical, "Arn")))
        severities.append(severity)
    return t, severities
