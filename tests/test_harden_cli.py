"""`mlmon harden` and `mlmon lint` on ASL files, including every definition of the shared corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlmon_cli.asl import load_asl
from mlmon_cli.asl.check import iter_scopes
from mlmon_cli.cli import EXIT_INPUT, EXIT_LINT, main

from .conftest import GOLDEN, corpus_params

FINDING = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rule>ASL\d{3}): (?P<message>.+)$")


def states(defn: dict) -> dict[str, dict]:
    return {scope.state_path(n): s for scope in iter_scopes(defn) for n, s in scope.body["States"].items()}


@pytest.mark.parametrize("source", corpus_params("asl"))
def test_harden_every_corpus_file_via_the_cli(source: Path, runner, tmp_path) -> None:
    out = tmp_path / source.name
    first = runner.invoke(main, ["harden", str(source), "-o", str(out)])
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "" and re.search(r"mlmon: [1-9]\d* change\(s\)", first.stderr)
    before, after = load_asl(source.read_text(encoding="utf-8"), source.name), load_asl(out.read_text(encoding="utf-8"), out.name)
    old, new = states(before), states(after)
    for path, state in old.items():  # nothing lost: every state, key and existing Retry/Catch entry is kept
        for key, value in state.items():
            if key in ("Retry", "Catch"):
                assert new[path][key][: len(value)] == value, path
            elif key not in ("Branches", "ItemProcessor", "Iterator"):
                assert new[path][key] == value, f"{path}.{key}"
    for path, state in new.items():  # every Task covered
        if state.get("Type") == "Task":
            assert state.get("Retry") and state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], path
    for token in set(re.findall(r"\$\{[^}]*\}", source.read_text(encoding="utf-8"))):
        assert token in out.read_text(encoding="utf-8"), token  # placeholders survive as written
    lint = runner.invoke(main, ["lint", str(out)])
    assert not re.search(r": ASL00[123]: ", lint.stdout), lint.stdout
    again = tmp_path / f"again{out.suffix}"
    second = runner.invoke(main, ["harden", str(out), "-o", str(again)])
    assert second.exit_code == 0 and "mlmon: 0 change(s)" in second.stderr
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")  # a second run is a no-op


def test_harden_yaml_to_stdout_keeps_yaml_and_topic_option(runner, tmp_path) -> None:
    src = tmp_path / "flow.asl.yaml"
    src.write_text("StartAt: Go\nStates:\n  Go: {Type: Task, Resource: 'arn:aws:states:::glue:startJobRun.sync', "
                   "Parameters: {JobName: '${JobName}'}, End: true}\n")
    result = runner.invoke(main, ["harden", str(src), "--topic-arn", "arn:aws:sns:eu-west-1:123456789012:ops"])
    assert result.exit_code == 0, result.stderr
    out = load_asl(result.stdout, "out.yaml")
    assert out["States"]["Go"]["Parameters"] == {"JobName": "${JobName}"}
    assert out["States"]["NotifyFailure"]["Parameters"]["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:ops"
    assert f"{src}: States.Go: added Retry [glue]" in result.stderr


@pytest.mark.parametrize(("text", "where", "message"), [
    ('{\n  "StartAt": "A",\n  "States": {,}\n}', "3:14", "invalid JSON"),
    ('{"Comment": "no states"}', "1:1", "not a state machine definition"),
])
def test_harden_reports_unparsable_input_located(text, where, message, runner, tmp_path) -> None:
    src = tmp_path / "bad.json"
    src.write_text(text)
    result = runner.invoke(main, ["harden", str(src), "-o", str(tmp_path / "out.json")])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr.startswith(f"{src}:{where}: (file): {message}")
    assert not (tmp_path / "out.json").exists()


def test_lint_asl_file_reports_each_rule_at_its_state(runner, tmp_path) -> None:
    src = tmp_path / "flow.asl.json"
    src.write_text(json.dumps({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B",
              "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}, {"ErrorEquals": ["X"], "MaxAttempts": "3"}],
              "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "Nowhere"}]},
        "B": {"Type": "Succeed"},
        "Orphan": {"Type": "Pass", "End": True},
    }}, indent=2))
    result = runner.invoke(main, ["lint", str(src)])
    assert result.exit_code == EXIT_LINT
    found = {(m["rule"], int(m["line"])) for m in map(FINDING.match, result.stdout.splitlines())}
    assert found == {("ASL011", 10), ("ASL030", 13), ("ASL033", 19), ("ASL010", 24), ("ASL021", 28), ("ASL022", 35)}
    assert "1 state machine definition(s)" in result.stderr


@pytest.mark.slow  # cfn-lint
def test_lint_template_checks_state_machine_definitions(runner, tmp_path) -> None:
    text = (GOLDEN / "workflow_lambda_glue_sns_wait" / "expected.yaml").read_text()
    bad = text.replace("BackoffRate: 2\n", "BackoffRate: 0.5\n", 1)
    assert bad != text
    src = tmp_path / "template.yaml"
    src.write_text(bad)
    result = runner.invoke(main, ["lint", str(src)])
    assert result.exit_code == EXIT_LINT
    # the finding points at the BackoffRate key itself inside the Definition mapping
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if l.endswith("BackoffRate: 0.5"))
    column = bad.splitlines()[line - 1].index("BackoffRate") + 1
    assert re.search(rf"template.yaml:{line}:{column}: ASL030: NightlyStateMachine: Definition.States.\w+.Retry\[0\].BackoffRate: must be >= 1.0", result.stdout)
