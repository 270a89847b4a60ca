"""`validate`, `generate` and `lint` give the same accept/reject answer on every spec.

Table-driven: every invalid case (tests/invalid) and a set of tricky specs (tests/tricky:
punctuation that nearly collides, names next to mlmon's reserved ones, `$` that is not a
substitution, non-ASCII text). Accepted by one <=> accepted by all three.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon_cli import lint
from mlmon_cli.cli import EXIT_INPUT, EXIT_OK, main

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
TRICKY = sorted((HERE / "tricky").glob("*.yaml"))


def answers(runner, spec: Path, tmp_path: Path) -> dict[str, int]:
    return {
        "validate": runner.invoke(main, ["validate", str(spec)]).exit_code,
        "generate": runner.invoke(main, ["generate", str(spec), "-o", str(tmp_path / "t.yaml")]).exit_code,
        "lint": runner.invoke(main, ["lint", str(spec)]).exit_code,
    }


@pytest.mark.parametrize("spec", INVALID, ids=[p.stem for p in INVALID])
def test_every_invalid_spec_is_refused_by_all_three_commands(spec: Path, runner, tmp_path) -> None:
    assert answers(runner, spec, tmp_path) == {"validate": EXIT_INPUT, "generate": EXIT_INPUT, "lint": EXIT_INPUT}


@pytest.mark.parametrize("spec", TRICKY, ids=[p.stem for p in TRICKY])
def test_every_tricky_spec_gets_one_answer_from_all_three_commands(spec: Path, runner, tmp_path, monkeypatch) -> None:
    """Fast: `lint` accepts or refuses the spec itself before cfn-lint runs, so cfn-lint is left out here
    (the slow variant below runs it; tests/test_lint_clean.py holds the templates to zero findings)."""
    monkeypatch.setattr(lint, "lint_files", lambda jobs, ignore_checks=(): [])
    result = answers(runner, spec, tmp_path)
    assert len(set(result.values())) == 1, result
    assert result["validate"] in (EXIT_OK, EXIT_INPUT)


@pytest.mark.slow  # lint runs cfn-lint on each accepted spec
@pytest.mark.parametrize("spec", TRICKY, ids=[p.stem for p in TRICKY])
def test_every_tricky_spec_gets_one_answer_with_cfn_lint(spec: Path, runner, tmp_path) -> None:
    result = answers(runner, spec, tmp_path)
    assert len(set(result.values())) == 1, result
    assert result["validate"] in (EXIT_OK, EXIT_INPUT)


def test_the_tricky_table_has_accepted_specs_too(runner) -> None:
    """The table must exercise acceptance, not only refusal."""
    accepted = [p for p in TRICKY if runner.invoke(main, ["validate", str(p)]).exit_code == EXIT_OK]
    assert len(accepted) >= 3
