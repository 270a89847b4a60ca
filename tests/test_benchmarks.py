"""`benchmarks/run.py` runs in each of its modes (it once crashed in its default one on a removed import).

Tiny sizes, one run each: this proves the script works and reads the CLI's output right, not speed.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import run as bench
from benchmarks.synthetic import spec_text
from mlmon_cli.core.pipeline import generate, load

TINY = ["--sizes", "2", "--repeat", "1", "--help-runs", "1"]


def _rows(out: str) -> list[list[str]]:
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _resources(count: int) -> int:
    return generate(load(spec_text(count), "bench.yaml")).resources


def test_generate_only_mode(capsys) -> None:
    bench.main([*TINY, "--no-lint"])
    out = capsys.readouterr().out
    assert re.search(r"^`mlmon --help`: median \d+\.\d{3} s, best \d+\.\d{3} s \(1 runs\)$", out, re.M)
    header, *rows = _rows(out)
    assert header == ["components", "generate s", "generate CPU s", "peak MiB", "resources", "templates", "bytes"]
    assert [(r[0], r[4], r[5]) for r in rows] == [("2", str(_resources(2)), "1")]


@pytest.mark.slow
def test_default_mode_with_lint(capsys) -> None:
    """The default mode adds cfn-lint and `mlmon lint` (subprocesses of several seconds each)."""
    bench.main(TINY)
    header, *rows = _rows(capsys.readouterr().out)
    assert header[-5:] == ["cfn-lint s", "cfn-lint CPU s", "mlmon lint s", "mlmon lint CPU s", "mlmon checks % of cfn-lint"]
    assert [r[0] for r in rows] == ["2"]
    assert float(rows[0][-1]) > 0  # mlmon's own rules ran


def test_resource_count_is_read_from_the_summary_line() -> None:
    assert bench.resources_of("mlmon: wrote out/: 1,234 resources (9 alarms, ...)\n") == 1234
    with pytest.raises(SystemExit, match="no resource count"):
        bench.resources_of("Traceback ...")
