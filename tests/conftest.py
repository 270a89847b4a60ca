"""Shared fixtures: golden-file comparison (`--update-goldens` rewrites them) and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
# Golden cases: tests/golden/<case>/{spec.yaml,expected.yaml}, plus those of kinds from other packages
# (MLMON_GOLDEN_DIRS, os.pathsep-separated, next to MLMON_KIND_MODULES): every registry-driven test sees them.
GOLDEN_DIRS = [GOLDEN, *(Path(d) for d in os.environ.get("MLMON_GOLDEN_DIRS", "").split(os.pathsep) if d)]
GOLDEN_SPECS = sorted(p for d in GOLDEN_DIRS for p in d.glob("*/spec.yaml"))
CORPUS = ROOT.parent / "shared" / "corpus"  # real public templates and ASL (test data), cloned beside the repo
_CORPUS_MISSING: set[str] = set()


def corpus_params(sub: str, pattern: str = "*") -> list:
    """One pytest param per file of ../shared/corpus/<sub>. Without the corpus: one param that skips
    (fails under CI=true, where shared/ is always beside the clone), counted in the summary."""
    folder = CORPUS / sub
    if folder.is_dir():
        return [pytest.param(p, id=p.name) for p in sorted(folder.glob(pattern)) if p.is_file()]
    _CORPUS_MISSING.add(str(folder))
    return [pytest.param(None, id="corpus-missing", marks=pytest.mark.corpus_missing)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("corpus_missing"):
        reason = f"shared corpus not found at {CORPUS} (clone shared/ beside the repository)"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def pytest_terminal_summary(terminalreporter) -> None:
    if _CORPUS_MISSING:
        skipped = len([r for r in terminalreporter.stats.get("skipped", []) if "corpus-missing" in r.nodeid])
        terminalreporter.section("shared corpus missing")
        terminalreporter.write_line(f"{', '.join(sorted(_CORPUS_MISSING))} not found: {skipped} corpus test(s) skipped; "
                                    "each stands for every file of that corpus")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every end-to-end test (LocalStack) is slow."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite expected files; review the diff")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    def check(actual: str, path: Path) -> None:
        if request.config.getoption("--update-goldens"):
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"{path} missing; run pytest --update-goldens and review it"
        assert actual == path.read_text(encoding="utf-8"), f"{path} differs; run pytest --update-goldens and review the diff"

    return check


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
