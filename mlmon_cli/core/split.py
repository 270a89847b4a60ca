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

from troposphere import AWSHelperFn, BaseAWSObject, GetAtt, Output, Parameter, Ref, Template
from troposphere.cloudformation import Stack

from .. import naming
from ..spec.model import SEVERITIES, Spec
from .composites import AlarmRef, add_composite, composite_text
from .dashboard import Section, add_dashboards
from .template import new_template

# Per nested stack: CloudFormation allows 500 resources and 200 outputs; keep headroom for the
# stack composite (and its parts) and for growth before a group has to split.
STACK_RESOURCE_BUDGET = 400
STACKS_DIR = "stacks"
TOPIC_PARAMETER = naming.ALERTS_TOPIC_ID  # a nested stack takes the topic ARN as a parameter of its logical ID

Part = tuple[str, Template, dict[str, list[AlarmRef]], Section]  # name, resources, heads per severity, dashboard section


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


def add_nested_stacks(result: Any, spec: Spec, parts: list[Part], topics: dict[str, Any], ext: str = "yaml",
                      stack_composites: bool = True) -> dict[str, list[AlarmRef]]:
    """Fill `result.nested` with one template per group; add the Stack resources to the parent.

    Returns, per severity, the stack composites the parent's solution composites should name
    (none without `stack_composites`: the parent then has no solution composite to feed).
    """
    parent = result.template
    refs: dict[str, list[AlarmRef]] = {severity: [] for severity in SEVERITIES}
    topic_params = {value.data["Ref"]: value for value in topics.values() if isinstance(value, Ref)}
    for prefix, members in sorted(group(parts).items()):
        logical = stack_id(prefix)
        stem = naming.nested_stack_stem(prefix)
        nested, severities = _nested_template(spec, members, prefix, topic_params, ext, stack_composites)
        result.nested[stem] = nested
        used = {name: value for name, value in topic_params.items() if name in nested.parameters}
        if KEY_PARAMETER in nested.parameters:
            used[KEY_PARAMETER] = GetAtt(naming.ALERTS_KEY_ID, "Arn")
        parent.add_resource(Stack(logical, TemplateURL=f"{STACKS_DIR}/{stem}.{ext}", Parameters=used or None))
        for severity in severities:
            label = severity.capitalize()
            name = naming.stack_composite_name(spec.solution, prefix, label)
            refs[severity].append(AlarmRef(logical, name, arn=f"{logical}.Outputs.{naming.stack_composite_output(label)}"))
    return refs


KEY_PARAMETER = naming.ALERTS_KEY_ARN_PARAMETER


def _key_by_parameter(t: Template, resource: Any) -> Any:
    """A log group encrypted with the parent's AlertsKey takes the key's ARN as a parameter here."""
    key = resource.properties.get("KmsKeyId") if resource.resource_type == "AWS::Logs::LogGroup" else None
    if isinstance(key, GetAtt) and key.to_dict() == {"Fn::GetAtt": [naming.ALERTS_KEY_ID, "Arn"]}:
        resource.properties["KmsKeyId"] = Ref(KEY_PARAMETER)
        if KEY_PARAMETER not in t.parameters:
            t.add_parameter(Parameter(KEY_PARAMETER, Type="String", Description="ARN of the solution's KMS key"))
    return resource


def _nested_template(spec: Spec, members: list[Part], prefix: str, topic_params: dict[str, Any], ext: str,
                     stack_composites: bool = True) -> tuple[Template, list[str]]:
    t = new_template()
    t.set_description(f"mlmon monitoring for {spec.solution}: nested stack {prefix or 'all'} ({len(members)} components)")
    for _, template, _, _ in members:
        for resource in template.resources.values():
            t.add_resource(_key_by_parameter(t, resource))
    add_dashboards(t, spec.solution, [m[3] for m in members], label=prefix or "all")
    severities: list[str] = []
    for severity in SEVERITIES if stack_composites else ():
        children = [ref for m in members for ref in m[2].get(severity, [])]
        if not children:
            continue
        label = severity.capitalize()
        logical = naming.stack_composite_id(label)
        name = naming.stack_composite_name(spec.solution, prefix, label)
        add_composite(t, logical, name, children, partial(composite_text, scope="stack", solution=spec.solution, severity=severity), [])
        t.add_output(Output(naming.stack_composite_output(label), Description=f"Composite over this stack's {severity} composites",
                            Value=GetAtt(logical, "Arn")))
        severities.append(severity)
    # Only the topics this stack's resources name (a parameter nothing uses is a cfn-lint warning).
    used = _refs(t.resources.values(), set(topic_params))
    for name in topic_params:
        if name in used:
            t.add_parameter(Parameter(name, Type="String", Description="ARN of one of the solution's alert topics"))
    return t, severities


_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
_ALARMS = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def _refs(resources: Any, names: set[str]) -> set[str]:
    """Which of `names` the resources `Ref`, read from the objects (no serialization). An alarm can
    name a topic only in its actions; any other resource is walked whole."""
    found: set[str] = set()
    for resource in resources:
        props = resource.properties
        if resource.resource_type in _ALARMS:
            for key in _ACTIONS:
                _walk(props.get(key), names, found)
        else:
            _walk(props, names, found)
        if found == names:
            break
    return found


def _walk(value: Any, names: set[str], found: set[str]) -> None:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return
    if isinstance(value, AWSHelperFn):
        value = value.data
    elif isinstance(value, BaseAWSObject):
        value = value.properties
    elif hasattr(value, "to_dict"):  # any other object that becomes template data
        value = value.to_dict()
    if isinstance(value, dict):
        ref = value.get("Ref")
        if isinstance(ref, str) and ref in names:
            found.add(ref)
        for item in value.values():
            _walk(item, names, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _walk(item, names, found)
