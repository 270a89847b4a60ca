"""Fixtures for end-to-end tests against a host-mode LocalStack.

- LocalStack not installed and MLMON_E2E != "1": e2e tests are skipped.
- MLMON_E2E == "1" and not installed: the tests error out (CI must not silently skip).
- MLMON_E2E == "0": always skipped (opt out of the ~90 s run even when installed).
Install with: tools/localstack/install.sh
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.localstack import TIMINGS, LocalStack, is_installed, venv_dir


@pytest.fixture(scope="session")
def localstack():
    if os.environ.get("MLMON_E2E") == "0":
        pytest.skip("e2e skipped: MLMON_E2E=0")
    if not is_installed():
        msg = (
            f"LocalStack venv not installed at {venv_dir()} "
            "(run tools/localstack/install.sh; set MLMON_LOCALSTACK_VENV to relocate)"
        )
        if os.environ.get("MLMON_E2E") == "1":
            pytest.fail(f"MLMON_E2E=1 but {msg}", pytrace=False)
        pytest.skip(f"e2e skipped: {msg}; set MLMON_E2E=1 to require it")
    ls = LocalStack()
    ls.start()
    try:
        yield ls
    finally:
        ls.stop()


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("LocalStack e2e timings")
        for name, secs in TIMINGS.items():
            terminalreporter.write_line(f"{name:32s} {secs:6.1f}s")
