"""Fixtures for end-to-end tests against a host-mode LocalStack (started once per session).

- LocalStack's venv missing: the session installs it with tools/localstack/install.sh
  (idempotent, ~40 s; needs Python 3.13) unless MLMON_E2E=0.
- MLMON_E2E=1 or CI=true: a failure to install or start LocalStack FAILS the e2e tests.
- Otherwise such a failure skips them, with the reason.
- MLMON_E2E=0: always skipped.
The terminal summary prints LocalStack timings and, per bundled spec, what was proven.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.e2e.localstack import REPO_ROOT, TIMINGS, LocalStack, is_installed, venv_dir

# spec file name -> figure name -> value; filled by test_bundled_specs, printed below
REPORT: dict[str, dict[str, object]] = {}
INSTALL_TIMEOUT = 900


def required() -> bool:
    return os.environ.get("MLMON_E2E") == "1" or os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _unavailable(message: str) -> None:
    if required():
        pytest.fail(f"{message} (MLMON_E2E=1 or CI=true: the e2e tests must run)", pytrace=False)
    pytest.skip(f"e2e skipped: {message}; set MLMON_E2E=1 to make this an error")


def _install() -> None:
    script = REPO_ROOT / "tools" / "localstack" / "install.sh"
    t0 = time.monotonic()
    try:
        proc = subprocess.run(["bash", str(script)], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"{script} did not finish: {exc}")
        return
    TIMINGS["localstack install"] = time.monotonic() - t0
    if proc.returncode != 0 or not is_installed():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        _unavailable(f"installing LocalStack into {venv_dir()} failed (exit {proc.returncode}):\n{tail}")


@pytest.fixture(scope="session")
def localstack():
    if os.environ.get("MLMON_E2E") == "0":
        pytest.skip("e2e skipped: MLMON_E2E=0")
    if not is_installed():
        _install()
    ls = LocalStack()
    try:
        ls.start()
    except Exception as exc:  # noqa: BLE001 - reported as skip or failure with LocalStack's log
        _unavailable(f"LocalStack did not start: {exc}")
    try:
        yield ls
    finally:
        ls.stop()


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("LocalStack e2e timings")
        for name, secs in TIMINGS.items():
            terminalreporter.write_line(f"{name:40s} {secs:6.1f}s")
    if REPORT:
        terminalreporter.section("LocalStack e2e: bundled specs")
        for spec, figures in sorted(REPORT.items()):
            terminalreporter.write_line(f"{spec}:")
            for name, value in figures.items():
                terminalreporter.write_line(f"  {name:44s} {value}")
