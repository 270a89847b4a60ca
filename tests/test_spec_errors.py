"""Invalid specs are data: `invalid/<case>.yaml` and the exact stderr lines in `<case>.errors`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon_cli.cli import EXIT_INPUT, main

INVALID = Path(__file__).parent / "invalid"
CASES = sorted(INVALID.glob("*.yaml"))


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
@pytest.mark.parametrize("command", ["validate", "generate"])
def test_invalid_spec_reports_exact_messages(case: Path, command: str, runner, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(INVALID)
    out = tmp_path / "template.yaml"
    args = [command, case.name] + (["-o", str(out)] if command == "generate" else [])
    result = runner.invoke(main, args)
    assert result.exit_code == EXIT_INPUT, result.output
    assert result.stderr == case.with_suffix(".errors").read_text(encoding="utf-8")
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert not out.exists(), "no output file may be written for an invalid spec"


def test_missing_file_is_reported_in_the_same_format(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["generate", "nope.yaml"])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == "nope.yaml:1:1: (file): file not found\n"


def test_directory_is_reported(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    result = runner.invoke(main, ["validate", "d"])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == "d:1:1: (file): is a directory, expected a YAML file\n"
