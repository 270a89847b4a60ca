"""Adopted templates (issue 19): every command works on every spec `init --from-template` writes
and on every name form (`Ref`, `GetAtt`, `Sub`, `ImportValue`, spec parameters)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlmon_cli.cli import main
from mlmon_cli.plan import cfn_text

from .conftest import ROOT

ADOPTED = ROOT / "tests" / "data" / "adopted"
CORPUS = ROOT.parent / "shared" / "corpus" / "templates"


@pytest.fixture
def adopted(tmp_path: Path) -> Path:
    for f in ADOPTED.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_cfn_text_shows_every_name_form() -> None:
    assert cfn_text("plain") == "plain"
    assert cfn_text({"Ref": "Fn"}) == "${Fn}"
    assert cfn_text({"Fn::GetAtt": ["Flow", "Name"]}) == "${Flow.Name}"
    assert cfn_text({"Fn::GetAtt": "Flow.Name"}) == "${Flow.Name}"
    assert cfn_text({"Fn::Sub": "${AWS::StackName}-x"}) == "${AWS::StackName}-x"
    assert cfn_text({"Fn::Sub": ["${A}-y", {"A": {"Fn::ImportValue": "exp"}}]}) == "${ImportValue exp}-y"
    assert cfn_text({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "z"]]}) == "${AWS::StackName}-z"
    assert cfn_text({"Fn::If": ["C", "a", "b"]}) == '{"Fn::If": ["C", "a", "b"]}'


def test_plan_reads_every_name_form(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["plan", "monitoring.yaml", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["${AWS::StackName}-score-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${ScoreFunction})"
    assert rows["${AWS::StackName}-features-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${FeatureFunction})"
    assert rows["${AWS::StackName}-external-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${ScoringName})"
    assert rows["${AWS::StackName}-staged-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=features-${Stage})"
    assert rows["${EtlJobRunFailedRule}"]["threshold"] == 'matches jobName ["${ImportValue churn-etl-job-name}"]; state ["FAILED","TIMEOUT"]'
    assert rows["${AWS::StackName}-score-Errors"]["severity"] == "critical"  # read from an Fn::Sub AlarmDescription
    assert rows["${AWS::StackName}-score-DurationP90"]["threshold"].startswith("> 24000 ms,")
    # mlmon's rules are named by CloudFormation (Ref); the app's own schedule rule notifies nobody: not a row
    assert rows["${FlowExecutionFailedEventRule}"]["recipients"] == ["email oncall@example.com"]
    assert "${AWS::StackName}-nightly" not in rows


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["plan", "--format", "json"], ["generate", "-o", "out.yaml"]])
def test_commands_exit_0_on_every_name_form(runner, adopted: Path, monkeypatch, command: list[str]) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, [command[0], "monitoring.yaml", *command[1:]])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_lint_exit_0_on_every_name_form(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["lint", "monitoring.yaml"])
    assert res.exit_code == 0, res.output


CORPUS_TEMPLATES = sorted(CORPUS.glob("t*")) if CORPUS.is_dir() else []
# t29 declares nothing mlmon watches (a Service Catalog portfolio): init says so and writes no spec (exit 1)
NOTHING_TO_WATCH = {"t29_drift-detection_service-catalog_NEGATIVE.yml"}


def _adopt(runner, template: Path, folder: Path) -> None:
    shutil.copy(template, folder / template.name)
    res = runner.invoke(main, ["init", "--from-template", template.name, "-o", "monitoring.yaml"])
    assert res.exit_code == 0, f"{template.name}: init: {res.output}"


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS_TEMPLATES, reason="../shared/corpus/templates is not beside the clone")
def test_every_command_exits_0_on_every_corpus_spec(runner, tmp_path: Path, monkeypatch) -> None:
    """init -> validate, generate, plan (markdown and JSON), lint: exit 0 for every corpus template."""
    failures = []
    for template in CORPUS_TEMPLATES:
        folder = tmp_path / template.stem
        folder.mkdir()
        monkeypatch.chdir(folder)
        if template.name in NOTHING_TO_WATCH:  # issue 18: init exits 1 and writes no spec that generate would refuse
            shutil.copy(template, folder / template.name)
            res = runner.invoke(main, ["init", "--from-template", template.name, "-o", "monitoring.yaml"])
            assert res.exit_code == 1 and "nothing in this template is a resource mlmon can watch" in res.output, res.output
            assert not (folder / "monitoring.yaml").exists()
            continue
        _adopt(runner, template, folder)
        for command in (["validate"], ["generate", "-o", "out.yaml"], ["plan"], ["plan", "--format", "json"], ["lint"]):
            res = runner.invoke(main, [command[0], "monitoring.yaml", *command[1:]])
            if res.exit_code != 0:
                failures.append(f"{template.name}: {' '.join(command)} exit {res.exit_code}: {res.output[-300:]}")
    assert failures == []


# ---- no silent overwrite (part 2) ------------------------------------------------------------
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generate_refuses_to_write_over_its_input_template(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "app.yaml"])
    assert res.exit_code == 1
    assert res.stderr == (
        "mlmon: -o app.yaml is the spec's input template (template: in monitoring.yaml): generate would replace your "
        "template with the merged output and the next generate would read that; nothing written. Write the merged "
        "output to another file, e.g. -o app-monitored.yaml, and deploy that\n")
    assert _snapshot(adopted) == before


def test_generate_refuses_to_write_over_its_spec(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "./monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("mlmon: -o monitoring.yaml is the spec itself: generate would replace it with the template; "
                          "nothing written. Write the template to another file, e.g. -o monitoring-monitored.yaml\n")
    assert _snapshot(adopted) == before


def test_init_refuses_to_replace_a_spec_without_force(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("mlmon: monitoring.yaml exists: init would replace it and lose your edits; nothing written. "
                          "Pass --force to replace it, or write the new spec elsewhere with -o\n")
    assert _snapshot(adopted) == before
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml", "--force"])
    assert res.exit_code == 0, res.output
    assert (adopted / "monitoring.yaml").read_text() != before["monitoring.yaml"].decode()


# ---- never an undeployable merged output (part 3) ----------------------------------------------
def _functions_template(count: int) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:"]
    for i in range(count):
        lines += [f"  Fn{i}:", "    Type: AWS::Lambda::Function", "    Properties:", "      Runtime: python3.12",
                  "      Handler: index.handler", "      Role: arn:aws:iam::123456789012:role/r", "      Timeout: 60",
                  "      Code:", "        ZipFile: 'def handler(e, c): return 1'"]
    return "\n".join(lines) + "\n"


def test_70_functions_merged_is_refused_with_exit_4_naming_the_limit(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(_functions_template(70))
    assert runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"]).exit_code == 0
    before = _snapshot(tmp_path)
    for command in (["generate", "monitoring.yaml", "-o", "out.yaml"], ["validate", "monitoring.yaml"], ["plan", "monitoring.yaml"]):
        res = runner.invoke(main, command)
        assert res.exit_code == 4, res.output
        assert res.stderr == (
            "mlmon: the merged template would have 568 resources (70 of app.yaml + 498 of mlmon); CloudFormation allows "
            "500 per template. Nothing written. Watch fewer resources (remove components from the spec), or monitor from "
            "a separate stack: mlmon init --from-stack STACK_NAME (its output splits into nested stacks)\n")
    assert _snapshot(tmp_path) == before
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out", "--split"])
    assert res.exit_code == 2 and "never split" in res.stderr


def test_60_functions_merged_fit_one_template(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(_functions_template(60))
    assert runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"]).exit_code == 0
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"])
    assert res.exit_code == 0, res.output
    from cfnlint.decode import decode_str

    merged, _ = decode_str((tmp_path / "out.yaml").read_text())
    assert 60 < len(merged["Resources"]) <= 500
