"""Past CloudFormation's limits: nested stacks within every limit, hierarchy intact, split stable."""

from __future__ import annotations

import random
import re

import pytest
import yaml

from benchmarks.synthetic import component, spec
from mlmon_cli.core.build import build_template
from mlmon_cli.core.composites import ARN_PREFIX_CHARS, MAX_CHILDREN
from mlmon_cli.serialize import dump
from mlmon_cli.core.split import TOPIC_PARAMETER
from mlmon_cli.lint import lint_files
from mlmon_cli.core.pipeline import parse_spec

from .template_graph import composite_children, resources_of, unreachable_alarms

pytestmark = pytest.mark.slow  # cfn-lint, moto, a subprocess or large specs: not in the fast loop

TOPIC = {"Ref": "AlertsTopic"}


def build(count: int, extra: list | None = None, notify_solution: bool = True):
    """`notify_solution` builds the stack and solution composites (without it nobody would read them)."""
    data = spec(count)
    data["notifications"]["notify_solution"] = notify_solution
    data["components"] += extra or []
    return build_template(parse_spec(yaml.safe_dump(data), "big.yaml"))


@pytest.fixture(scope="module")
def big():
    result = build(5000)
    texts = {"template.yaml": dump(result.template.to_dict(), "yaml")}
    texts.update({f"stacks/{stem}.yaml": dump(t.to_dict(), "yaml") for stem, t in result.nested.items()})
    return result, texts


def test_every_template_is_within_every_limit(big) -> None:
    result, texts = big
    assert result.nested, "5,000 components must split"
    names = {}  # logical ID (or nested stack ID) -> alarm name, to size rules once ARNs are substituted
    for stem, nested in result.nested.items():
        for label in ("Critical", "Warning"):
            names[f"Monitoring{stem.split('-')[1].replace('all', 'All')}{label}"] = nested.resources[f"Stack{label}Composite"].properties["AlarmName"]
    for template in [result.template, *result.nested.values()]:
        data = template.to_dict()
        names.update({k: v["Properties"]["AlarmName"] for k, v in data["Resources"].items() if "AlarmName" in v.get("Properties", {})})
        assert len(data["Resources"]) <= 500
        assert len(data.get("Outputs", {})) <= 200
        assert len(data.get("Parameters", {})) <= 200
        for children in composite_children(data).values():
            assert len(children) <= MAX_CHILDREN
        for res in resources_of(data, "AWS::CloudWatch::CompositeAlarm").values():
            # Deployed length: each ${X...} becomes arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>.
            rule = res["Properties"]["AlarmRule"]["Fn::Sub"]
            deployed = re.sub(r"\$\{([A-Za-z0-9]+)(?:\.Outputs\.Stack(Critical|Warning)CompositeArn|\.Arn)\}",
                              lambda m: "a" * ARN_PREFIX_CHARS + names[m.group(1) + (m.group(2) or "")], rule)
            assert len(deployed) <= 10_240
    assert all(len(text.encode()) <= 1_000_000 for text in texts.values())
    assert result.resources == sum(len(t.resources) for t in [result.template, *result.nested.values()])


def test_every_alarm_reaches_the_topic_across_stacks(big) -> None:
    result, _ = big
    parent = result.template.to_dict()
    stacks = resources_of(parent, "AWS::CloudFormation::Stack")
    assert len(stacks) == len(result.nested)
    for name, stack in stacks.items():
        assert stack["Properties"]["Parameters"] == {TOPIC_PARAMETER: TOPIC, "AlarmHistoryTopic": {"Ref": "AlarmHistoryTopic"}}
    alarms = len(resources_of(parent, "AWS::CloudWatch::Alarm"))  # the alert path's own alarms
    assert unreachable_alarms(parent, TOPIC) == []
    for nested in result.nested.values():
        data = nested.to_dict()
        assert data["Parameters"][TOPIC_PARAMETER]["Type"] == "String"
        assert unreachable_alarms(data, TOPIC) == []  # via the notifying component composites
        for label in ("Critical", "Warning"):
            assert data["Outputs"][f"Stack{label}CompositeArn"]["Value"] == {"Fn::GetAtt": [f"Stack{label}Composite", "Arn"]}
        alarms += len(resources_of(data, "AWS::CloudWatch::Alarm"))
    assert alarms == result.alarms
    # The solution composite (nested through parts if needed) covers every stack's composite.
    rules = " ".join(r["Properties"]["AlarmRule"]["Fn::Sub"] for r in resources_of(parent, "AWS::CloudWatch::CompositeAlarm").values())
    for name in stacks:
        for label in ("Critical", "Warning"):
            assert f'ALARM("${{{name}.Outputs.Stack{label}CompositeArn}}")' in rules


def test_a_sample_of_the_split_passes_cfn_lint(big) -> None:
    _, texts = big
    names = sorted(texts)
    sample = ["template.yaml"] + random.Random(7).sample([n for n in names if n.startswith("stacks/")], 2)
    findings = lint_files([(name, texts[name]) for name in sample])
    assert [f for f in findings if f.is_error] == []


def test_adding_one_component_changes_only_the_stack_that_receives_it() -> None:
    before = build(1000)
    after = build(1000, [component(123456)])
    changed = {stem for stem in set(before.nested) | set(after.nested)
               if stem not in before.nested or stem not in after.nested or before.nested[stem].to_dict() != after.nested[stem].to_dict()}
    assert len(changed) == 1
    (stem,) = changed
    new_ids = set(after.nested[stem].resources) - set(before.nested[stem].resources)
    assert new_ids and all(i.startswith("C123456") for i in new_ids)
    # Within that stack only the new resources and the stack composite above them changed.
    modified = {k for k in before.nested[stem].resources
                if before.nested[stem].resources[k].to_dict() != after.nested[stem].resources[k].to_dict()}
    assert modified <= {k for k in before.nested[stem].resources if re.match(r"Stack(Critical|Warning)Composite|Dashboard", k)}
    assert before.template.to_dict() == after.template.to_dict()  # the parent is untouched


def test_without_solution_composites_no_stack_composite_is_built() -> None:
    """By default nobody is notified by solution-wide composites, so neither they nor the stack
    composites that would feed them exist; every alarm still reaches the topic in its own stack."""
    result = build(1000, notify_solution=False)
    assert result.nested
    parent = result.template.to_dict()
    assert resources_of(parent, "AWS::CloudWatch::CompositeAlarm") == {}
    assert resources_of(parent, "AWS::CloudWatch::Dashboard") == {}  # the overview would show nothing
    for nested in result.nested.values():
        data = nested.to_dict()
        assert not any(k.startswith("Stack") for k in data["Resources"]) and "Outputs" not in data
        assert unreachable_alarms(data, TOPIC) == []


def test_order_does_not_matter_for_the_split() -> None:
    data = spec(800)
    first = build_template(parse_spec(yaml.safe_dump(data), "a.yaml"))
    data["components"].reverse()
    second = build_template(parse_spec(yaml.safe_dump(data), "b.yaml"))
    assert sorted(first.nested) == sorted(second.nested)
    for stem in first.nested:
        assert set(first.nested[stem].resources) == set(second.nested[stem].resources)
