"""Every generated template passes every AWS Control Tower proactive control (cfn-guard rules).

cfn-guard and the rules come from the pinned npm package @cdklabs/cdk-validator-cfnguard,
installed by tools/cfn-guard/install.sh (npm is the only prerequisite). All rule files run on
every bundled spec (each environment too), every golden spec, and a split output; a canary
template proves the rules are loaded and do fail what they should.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.synthetic import spec as synthetic_spec
from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.core.pipeline import generate_central, load_spec, parse_spec, spec_environments

from .conftest import GOLDEN, ROOT, SPECS

INSTALL = ROOT / "tools" / "cfn-guard" / "install.sh"


@pytest.fixture(scope="session")
def guard() -> tuple[Path, Path]:
    done = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"tools/cfn-guard/install.sh failed:\n{done.stderr}"
    home = Path(done.stdout.strip().splitlines()[-1])
    return home / "bin" / "cfn-guard", home / "rules"


def validate(guard: tuple[Path, Path], data: Path) -> dict[str, list[str]]:
    """File name -> the names of the rules it fails (every rule file under rules/)."""
    binary, rules = guard
    done = subprocess.run([str(binary), "validate", "-r", str(rules), "-d", str(data), "-z", "-S", "none", "-o", "json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 19), done.stderr  # 19: some rule failed
    return {Path(r["name"]).name: sorted({c["Rule"]["name"] for c in r["not_compliant"]}) for r in json.loads(done.stdout)}


def outputs() -> dict[str, str]:
    """Every bundled spec (base and each environment) and golden spec, and a split output."""
    found = {}
    for path in SPECS:
        for env in [None, *spec_environments(path.read_text(encoding="utf-8"), str(path))]:
            result = build_template(load_spec(path, env=env))
            found[f"{path.stem}{'-' + env if env else ''}"] = dump(result.template.to_dict(), "yaml")
    for path in sorted(GOLDEN.glob("*/spec.yaml")):
        found[f"golden-{path.parent.name}"] = dump(build_template(load_spec(path)).template.to_dict(), "yaml")
    from tests.test_organization import ORG, spec_text

    org = parse_spec(spec_text(ORG), "org.yaml")  # a member of an organization, and its central stack
    found["organization-member"] = dump(build_template(org).template.to_dict(), "yaml")
    found["organization-central"] = dump(generate_central(org).to_dict(), "yaml")
    split = build_template(parse_spec(yaml.safe_dump(synthetic_spec(120)), "s.yaml"), split=True)
    found["split-parent"] = dump(split.template.to_dict(), "yaml")
    for stem, nested in split.nested.items():
        found[f"split-{stem}"] = dump(nested.to_dict(), "yaml")
    return found


@pytest.mark.slow  # cfn-guard on every output: ~50 s
def test_every_output_passes_every_control_tower_proactive_control(guard, tmp_path: Path) -> None:
    texts = outputs()
    assert len(texts) >= len(SPECS) + 19
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    results = validate(guard, tmp_path)
    assert set(results) == {f"{name}.yaml" for name in texts}
    assert {name: failed for name, failed in results.items() if failed} == {}
    assert len(list(guard[1].rglob("*.guard"))) >= 200  # every proactive control, not a subset


@pytest.mark.slow
def test_canary_the_rules_fail_what_they_should(guard, tmp_path: Path) -> None:
    """An alarm without AlarmActions, a key policy granting kms:* without the CreateGrant deny, and
    a state machine without logging or tracing: the four controls mlmon's output used to fail."""
    template = {"Resources": {
        "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
            "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}},
        "K": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True, "KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}}},
        "S": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/r", "DefinitionString": "{}"}},
    }}
    (tmp_path / "canary.json").write_text(json.dumps(template), encoding="utf-8")
    assert validate(guard, tmp_path / "canary.json") == {"canary.json": [
        "cloudwatch_alarm_action_check", "kms_create_grant_aws_service_check",
        "step_functions_state_machine_logging_enabled_check", "step_functions_state_machine_tracing_enabled_check"]}
