"""Shared fixtures: golden-file comparison (`--update-goldens` rewrites them) and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


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
