"""Golden templates: every kind's expected output, reviewed as a diff when behaviour changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon_cli.components import load_all
from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import load_spec

from .conftest import GOLDEN, GOLDEN_SPECS

CASES = [p.parent for p in GOLDEN_SPECS]


def generate(spec_path: Path) -> str:
    return dump(build_template(load_spec(spec_path, spec_path.name)).template.to_dict(), "yaml")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_template(case: Path, golden) -> None:
    golden(generate(case / "spec.yaml"), case / "expected.yaml")


def test_every_kind_has_a_golden_case() -> None:
    covered = {load_spec(c / "spec.yaml").components[0].kind for c in CASES}
    assert set(load_all()) <= covered


def test_documented_dimension_sets_match_generated_alarms() -> None:
    """`dimension_names` feeds docs/kinds.md; it must match what the alarms really use."""
    registry = load_all()
    for case in CASES:
        spec = load_spec(case / "spec.yaml")
        template = build_template(spec).template.to_dict()
        kind = registry[spec.components[0].kind]
        documented = {d.split("=")[0] for d in kind.dimension_names}
        for res in template["Resources"].values():
            props = res["Properties"]
            if res["Type"] == "AWS::CloudWatch::Alarm" and props.get("Namespace", "AWS/Events") not in ("AWS/Events", "AWS/SNS"):
                defs = [a.metric for a in kind.alarms
                        if (a.metric.namespace, a.metric.name) == (props["Namespace"], props["MetricName"])]
                if not defs:  # an ExtraAlarm (Model Monitor, log pattern, staleness): test_beyond_thresholds.py
                    continue
                # one metric may be alarmed on at two declared dimension sets (a DynamoDB table and its indexes)
                declared = [(set(m.dimensions) if m.dimensions is not None else documented) | set(dict(m.fixed)) for m in defs]
                assert {d["Name"] for d in props.get("Dimensions", [])} in declared
