"""Split a large solution into nested stacks without breaking the alarm hierarchy.

Why hashing: a component's stack is chosen from the bits of a hash of its name (extendible
hashing: a group that is too big splits in two by the next bit). The grouping depends only on
the set of components, not their order, so adding one component changes the stack that
receives it (and the composites above), and moves nothing else unless that one stack
overflows and splits.

Each nested stack gets the alert topic as a parameter named `AlertsTopic` (so the component
resources' `Ref: AlertsTopic` keeps working unchanged), rolls its component composites into one
stack composite, and exports that composite's ARN; the parent's solution composite names the
stack composites through `${Stack.Outputs.StackCompositeArn}`.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from troposphere import GetAtt, Output, Parameter, Ref, Template
from troposphere.cloudformation import Stack

from ..render import render
from ..spec.model import Spec
from . import naming
from .composites import AlarmRef, add_composite

# Per nested stack: CloudFormation allows 500 resources and 200 outputs; keep headroom for the
# stack composite (and its parts) and for growth before a group has to split.
STACK_RESOURCE_BUDGET = 400
STACKS_DIR = "stacks"
TOPIC_PARAMETER = "AlertsTopic"
COMPOSITE_OUTPUT = "StackCompositeArn"

Part = tuple[str, Template, AlarmRef]  # component name, its resources, its top composite


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
    return f"Monitoring{prefix or 'All'}"


def add_nested_stacks(result: Any, spec: Spec, parts: list[Part], topic: Any, ext: str = "yaml") -> list[AlarmRef]:
    """Fill `result.nested` with one template per group; add the Stack resources to the parent."""
    parent = result.template
    refs = []
    for prefix, members in sorted(group(parts).items()):
        logical = stack_id(prefix)
        stem = f"monitoring-{prefix or 'all'}"
        nested = _nested_template(spec, members, prefix, topic)
        result.nested[stem] = nested
        params = {TOPIC_PARAMETER: topic} if not isinstance(topic, str) else {}
        parent.add_resource(Stack(logical, TemplateURL=f"{STACKS_DIR}/{stem}.{ext}", Parameters=params or None))
        name = naming.alarm_name(spec.solution, "Stack", prefix or "all")
        refs.append(AlarmRef(logical, name, arn=f"{logical}.Outputs.{COMPOSITE_OUTPUT}"))
    return refs


def _nested_template(spec: Spec, members: list[Part], prefix: str, topic: Any) -> Template:
    from .build import UncappedTemplate  # the same uncapped template the single build uses

    t = UncappedTemplate()
    t.set_version("2010-09-09")
    t.set_description(f"mlmon monitoring for {spec.solution}: nested stack {prefix or 'all'} ({len(members)} components)")
    if not isinstance(topic, str):
        t.add_parameter(Parameter(TOPIC_PARAMETER, Type="String", Description="ARN of the solution's alert topic"))
    for _, template, _ in members:
        for resource in template.resources.values():
            t.add_resource(resource)
    logical = "StackComposite"
    name = naming.alarm_name(spec.solution, "Stack", prefix or "all")
    describe = partial(_describe, solution=spec.solution)
    add_composite(t, logical, name, [m[2] for m in members], describe, [])
    t.add_output(Output(COMPOSITE_OUTPUT, Description="Composite over this stack's components", Value=GetAtt(logical, "Arn")))
    return t


def _describe(**values: Any) -> str:
    values.setdefault("part", 0)
    values.setdefault("parent", "")
    values.setdefault("watched", "")
    scope = values.pop("scope", "stack")
    return render("composite_description.txt.j2", scope=scope, **values)
