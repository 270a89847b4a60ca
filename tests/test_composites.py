"""Composite nesting keeps every rule within 100 children and 10,240 characters, and names stay within limits."""

from __future__ import annotations

import pytest

import yaml

from mlmon_cli import naming
from mlmon_cli.core.build import build_template
from mlmon_cli.core.composites import ARN_PREFIX_CHARS, MAX_CHILDREN, MAX_RULE_CHARS
from mlmon_cli.lint import lint_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import parse_spec

from .template_graph import composite_children, resources_of, unreachable_alarms

TOPIC = {"Ref": "AlertsTopic"}


def spec_with_variants(count: int, name: str = "ep") -> str:
    return yaml.safe_dump({
        "solution": "big",
        "notifications": {"emails": ["a@example.com"]},
        "components": [{"kind": "sagemaker_endpoint", "name": name, "endpoint_name": "e",
                        "variants": [f"variant-with-a-rather-long-name-{i:03d}" for i in range(count)]}],
    })


def deployed_rule_length(template: dict, composite: str) -> int:
    alarms = {k: v["Properties"]["AlarmName"] for k, v in template["Resources"].items() if "AlarmName" in v.get("Properties", {})}
    children = composite_children(template)[composite]
    return sum(len('ALARM("") OR ') + ARN_PREFIX_CHARS + len(alarms[c]) for c in children)


@pytest.mark.slow
def test_many_children_nest_within_limits() -> None:
    template = build_template(parse_spec(spec_with_variants(40), "s.yaml")).template.to_dict()
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    # 8 metric alarms per variant, the endpoint-state rule's alarm and its delivery alarm, the topic's delivery alarm
    assert len(alarms) == 40 * 8 + 3
    children = composite_children(template)
    assert len(children) > 3  # parts were needed
    for composite, kids in children.items():
        assert len(kids) <= MAX_CHILDREN
        assert deployed_rule_length(template, composite) <= MAX_RULE_CHARS
    assert unreachable_alarms(template, TOPIC) == []
    # Only the top composite of the component notifies; parts stay quiet.
    notifying = [k for k, v in resources_of(template, "AWS::CloudWatch::CompositeAlarm").items() if v["Properties"].get("AlarmActions")]
    assert sorted(notifying) == ["EpCriticalComposite", "EpWarningComposite"]
    assert [f for f in lint_template(dump(template, "json"), "t.json") if f.is_error] == []


def test_long_names_are_shortened_stably_and_stay_unique() -> None:
    long_name = "a" + "-very-long-component-name" * 2
    template = build_template(parse_spec(spec_with_variants(1, long_name[:64]), "s.yaml")).template.to_dict()
    rules = [r["Properties"]["Name"] for r in resources_of(template, "AWS::Events::Rule").values()]
    assert all(len(n) <= 64 for n in rules)
    full = "big-" + long_name[:64] + "-EndpointFailed"
    assert rules == [naming.shorten(full, 64)] and rules[0].endswith(naming.stable_hash(full))
    assert naming.shorten("x" * 300, 255) != naming.shorten("x" * 299 + "y", 255)
    assert len(naming.logical_id("p" * 300)) == 255
