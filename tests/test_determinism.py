"""Same spec, same bytes; names depend only on their own component, never on order or neighbours."""

from __future__ import annotations

import yaml

from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import load_spec, parse_spec

from .conftest import ROOT, SPECS


def generate(text: str) -> dict:
    return build_template(parse_spec(text, "spec.yaml")).template.to_dict()


def test_same_spec_gives_identical_bytes(runner, tmp_path) -> None:
    from mlmon_cli.cli import main

    outputs = []
    for index in range(2):
        out = tmp_path / f"t{index}.yaml"
        assert runner.invoke(main, ["generate", str(SPECS[0]), "-o", str(out)]).exit_code == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    for spec in SPECS:
        for fmt in ("yaml", "json"):
            assert dump(build_template(load_spec(spec)).template.to_dict(), fmt) == dump(
                build_template(load_spec(spec)).template.to_dict(), fmt)


def test_reordering_and_adding_components_keeps_existing_resources() -> None:
    data = yaml.safe_load((ROOT / "specs" / "churn-model.yaml").read_text())
    before = generate(yaml.safe_dump(data))["Resources"]
    data["components"] = list(reversed(data["components"])) + [
        {"kind": "glue_job", "name": "new-job", "job_name": "brand-new"}]
    after = generate(yaml.safe_dump(data))["Resources"]
    # Every component-level resource is unchanged; only the dashboard and the new ones differ.
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {"Dashboard"}
    added = set(after) - set(before)
    assert all(name.startswith("NewJob") for name in added)  # only the new component's own resources
    assert {"NewJobCriticalComposite", "NewJobJobRunFailedRule", "NewJobJobRunFailedAlarm",
            "NewJobJobRunFailedDeliveryAlarm", "NewJobFailedTasksAlarm", "NewJobHeapUsageAlarm"} <= added
