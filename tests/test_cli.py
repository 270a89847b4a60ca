"""The CLI through click's CliRunner: outputs, formats, exit codes, clean stderr/stdout split."""

from __future__ import annotations

import pytest

import json

import yaml

from mlmon_cli import __version__
from mlmon_cli.cli import EXIT_INPUT, EXIT_LIMIT, EXIT_LINT, EXIT_USAGE, main

from .conftest import ROOT

CHURN = str(ROOT / "specs" / "churn-model.yaml")


def test_generate_to_stdout_is_yaml(runner) -> None:
    result = runner.invoke(main, ["generate", CHURN])
    assert result.exit_code == 0, result.stderr
    template = yaml.safe_load(result.stdout)
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert "confirm its subscription" in result.stderr and "ml-oncall@example.com" in result.stderr
    assert "alarms" in result.stderr


def test_generate_json_file_atomically(runner, tmp_path) -> None:
    out = tmp_path / "template.json"
    result = runner.invoke(main, ["generate", CHURN, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "Resources" in json.loads(out.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["template.json"]  # no temp file left behind


def test_invalid_spec_leaves_existing_output_untouched(runner, tmp_path) -> None:
    out = tmp_path / "template.yaml"
    out.write_text("previous")
    bad = tmp_path / "spec.yaml"
    bad.write_text("solution: s\nnotifications: {emails: [a@example.com]}\ncomponents:\n  - kind: lambda\n    name: f\n")
    result = runner.invoke(main, ["generate", str(bad), "-o", str(out)])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr.startswith(f"{bad}:4:5: components[0].function_name: missing required key")
    assert out.read_text() == "previous"


def test_validate_many_files_reports_all(runner, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("solution: s\n")
    result = runner.invoke(main, ["validate", CHURN, str(bad)])
    assert result.exit_code == EXIT_INPUT
    assert "churn-model.yaml: ok (6 components)" in result.stderr
    assert f"{bad}:1:1: notifications: missing required key" in result.stderr


@pytest.mark.slow
def test_lint_spec_and_template(runner, tmp_path) -> None:
    out = tmp_path / "t.yaml"
    runner.invoke(main, ["generate", CHURN, "-o", str(out)])
    result = runner.invoke(main, ["lint", CHURN, str(out)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.stderr


@pytest.mark.slow
def test_split_output_directory_is_written_and_linted(runner, tmp_path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["generate", CHURN, "-o", str(out), "--split"])
    assert result.exit_code == 0, result.stderr
    assert "aws cloudformation package" in result.stderr
    parent = yaml.safe_load((out / "template.yaml").read_text())
    stacks = [r for r in parent["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert sorted(s["Properties"]["TemplateURL"] for s in stacks) == sorted(f"stacks/{p.name}" for p in (out / "stacks").iterdir())
    result = runner.invoke(main, ["lint", str(out)])
    assert result.exit_code == 0, result.output
    assert f"mlmon: {1 + len(stacks)} template(s), 0 error(s)" in result.stderr


@pytest.mark.slow
def test_lint_reports_errors_with_locations(runner, tmp_path) -> None:
    out = tmp_path / "t.yaml"
    runner.invoke(main, ["generate", CHURN, "-o", str(out)])
    text = out.read_text()
    line = text.splitlines().index("      Period: 600") + 1
    out.write_text(text.replace("      Period: 600", "      Period: 45", 1))
    result = runner.invoke(main, ["lint", str(out)])
    assert result.exit_code == EXIT_LINT
    assert f"{out}:{line}:7: E3615: 45 is not one of [10, 30, 60] or a multiple of 60" in result.stdout


def test_lint_unparsable_template_is_an_error(runner, tmp_path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("Resources:\n  A: [unclosed\n")
    result = runner.invoke(main, ["lint", str(bad)])
    assert result.exit_code == EXIT_LINT
    assert "E0000" in result.stdout


def test_limit_error_names_the_limit_and_count(runner, tmp_path) -> None:
    spec = tmp_path / "big.yaml"
    components = [{"kind": "sagemaker_endpoint", "name": f"ep{i}", "endpoint_name": f"ep{i}"} for i in range(60)]
    spec.write_text(yaml.safe_dump({"solution": "big", "notifications": {"emails": ["a@example.com"]}, "components": components}))
    result = runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "t.yaml")])
    assert result.exit_code == EXIT_LIMIT
    # 60 x (9 alarms, a rule, its delivery alarm, 2 severity composites, 2 saved log queries) + key, alias, topic, policy,
    # subscription, the alarm-history topic + the alert path's alarm + the dashboard (no solution composites: nobody
    # would be notified by them)
    assert result.stderr == ("the template would have 908 resources; CloudFormation allows 500 per template; "
                             "write a split output into a directory with -o DIRECTORY\n")
    assert not (tmp_path / "t.yaml").exists()


def test_usage_errors_and_help(runner) -> None:
    assert runner.invoke(main, ["generate"]).exit_code == EXIT_USAGE
    assert runner.invoke(main, ["generate", CHURN, "--format", "xml"]).exit_code == EXIT_USAGE
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0 and "Exit codes" in result.stdout
    for command in ("generate", "validate", "lint", "kinds"):
        assert runner.invoke(main, [command, "--help"]).exit_code == 0
    assert runner.invoke(main, ["--version"]).stdout.strip() == f"mlmon, version {__version__}"


def test_kinds_lists_every_kind(runner) -> None:
    result = runner.invoke(main, ["kinds"])
    for kind in ("lambda", "step_functions", "glue_job", "sagemaker_training", "sagemaker_endpoint", "codepipeline"):
        assert f"{kind}:" in result.stdout
