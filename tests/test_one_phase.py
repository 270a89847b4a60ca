"""Validation in one phase: the builder refuses nothing, the pipeline refuses for every command.

Names taken twice are reported by core/validate.py from what the builder recorded; CloudFormation's
size limits (500 resources and 1,000,000 bytes per template; 51,200 bytes for an inline deploy) are
checked by core/pipeline.generate, which `validate`, `plan`, `deploy`, `lint` and `generate` all call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlmon_cli.cli import EXIT_INPUT, EXIT_LIMIT, main
from mlmon_cli.core.build import build_template
from mlmon_cli.core.pipeline import generate, load
from mlmon_cli.errors import LimitError, SpecError

from .conftest import GOLDEN, ROOT

COLLIDING = """\
solution: twins
notifications: {emails: [oncall@example.com]}
components:
  - kind: sagemaker_endpoint
    name: scoring
    endpoint_name: scoring
    variants: [A-1, A--1]
"""
COLLISION = ("spec.yaml:4:5: components[0]: two resources of this component would both get the logical ID "
             "'ScoringA1Invocation5XXRateAlarm' (logical IDs keep only letters and digits, so e.g. 'A-1' and 'A_1' are the "
             "same); rename one")


def test_the_builder_records_names_taken_twice_and_raises_nothing(tmp_path: Path) -> None:
    spec = load(COLLIDING, "spec.yaml", base=tmp_path)
    result = build_template(spec)
    assert [str(p) for p in result.problems] == [COLLISION]
    with pytest.raises(SpecError) as refused:
        generate(spec)
    assert [str(p) for p in refused.value.problems] == [COLLISION]


def _wide_spec(tmp_path: Path) -> Path:
    """One component whose 10 metric-math alarms (10 metrics x 10 dimensions of 1,000 characters
    each) make 26 resources and about 1.2 MB of template: only the byte limit is passed."""
    dims = {f"D{j}": "v" * 1000 for j in range(10)}
    metrics = {f"m{i}": {"namespace": "Team/Wide", "metric": f"M{i}", "dimensions": dims, "statistic": "Sum"} for i in range(10)}
    custom = [{"name": f"wide-{k}", "expression": " + ".join(metrics), "threshold": 1, "metrics": metrics} for k in range(10)]
    spec = {"solution": "wide", "notifications": {"emails": ["oncall@example.com"]},
            "components": [{"kind": "lambda", "name": "fn", "function_name": "fn", "timeout_seconds": 60, "custom_alarms": custom}]}
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_a_template_over_one_megabyte_is_refused_by_every_command(runner, tmp_path: Path) -> None:
    spec = _wide_spec(tmp_path)
    with pytest.raises(LimitError) as refused:
        generate(load(spec.read_text(), str(spec)))  # auto split: the one nested stack is still too big
    message = str(refused.value)
    assert message.startswith("stacks/") and message.endswith(" bytes; CloudFormation allows 1000000 bytes")
    size = int(message.split(" would be ")[1].split()[0])
    assert size > 1_000_000
    answers = {
        "validate": runner.invoke(main, ["validate", str(spec)]),
        "plan": runner.invoke(main, ["plan", str(spec)]),
        "lint": runner.invoke(main, ["lint", str(spec)]),
        "generate (directory)": runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "out")]),
        "deploy": runner.invoke(main, ["deploy", str(spec), "--stack-name", "wide", "--region", "us-east-1"]),
    }
    for command, answer in answers.items():
        assert answer.exit_code == EXIT_LIMIT, (command, answer.stderr)
        assert message in answer.stderr, command
    assert not (tmp_path / "out").exists()
    # one file cannot split: the same limit, on the single template
    single = runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "t.yaml")])
    assert single.exit_code == EXIT_LIMIT
    assert single.stderr.startswith("template.yaml would be ") and " bytes; CloudFormation allows 1000000 bytes" in single.stderr
    assert runner.invoke(main, ["plan", str(spec), "--no-split"]).stderr == single.stderr.replace(
        "; write a split output into a directory with -o DIRECTORY", "")


def test_past_500_resources_without_splitting_plan_and_generate_agree(runner, tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    components = [{"kind": "sagemaker_endpoint", "name": f"ep{i}", "endpoint_name": f"ep{i}"} for i in range(60)]
    spec.write_text(yaml.safe_dump({"solution": "big", "notifications": {"emails": ["a@example.com"]}, "components": components}))
    expected = "the template would have 908 resources; CloudFormation allows 500 per template"
    plan = runner.invoke(main, ["plan", str(spec), "--no-split"])
    assert (plan.exit_code, plan.stderr) == (EXIT_LIMIT, expected + "\n")
    single = runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "t.yaml")])
    assert single.exit_code == EXIT_LIMIT and single.stderr.startswith(expected)
    ok = runner.invoke(main, ["validate", str(spec)])  # validate, like deploy, may split: nested stacks
    assert ok.exit_code == 0
    assert ok.stderr == f"{spec}: ok (60 components)\n{spec}: the template is over 51200 bytes: deploy with --s3-bucket BUCKET\n"


def test_the_inline_deploy_limit_is_one_answer(runner, tmp_path: Path) -> None:
    """A template over 51,200 bytes cannot be passed as TemplateBody: generate, validate and plan say so."""
    churn = ROOT / "specs" / "churn-model.yaml"
    note = "the template is over 51200 bytes: deploy with --s3-bucket BUCKET"
    validated = runner.invoke(main, ["validate", str(churn), "--env", "dev"])
    assert validated.exit_code == 0 and validated.stderr.splitlines()[1] == f"{churn} [env dev]: {note}"
    assert f"mlmon: {note}" in runner.invoke(main, ["plan", str(churn)]).stderr
    assert f"mlmon: {note}" in runner.invoke(main, ["generate", str(churn), "-o", str(tmp_path / "t.yaml")]).stderr
    small = GOLDEN / "lambda_basic" / "spec.yaml"  # well under the limit: no note
    assert runner.invoke(main, ["validate", str(small)]).stderr == f"{small}: ok (1 components)\n"


def test_an_invalid_spec_is_still_exit_1(runner, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(COLLIDING)
    assert runner.invoke(main, ["validate", str(spec)]).exit_code == EXIT_INPUT
