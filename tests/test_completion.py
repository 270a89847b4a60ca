"""The shell completion the README documents works (click's `_MLMON_COMPLETE`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import ROOT


@pytest.mark.slow  # subprocess
def test_bash_completion_script_and_completions() -> None:
    readme = (ROOT / "README.md").read_text()
    assert 'eval "$(_MLMON_COMPLETE=bash_source mlmon)"' in readme
    run = [sys.executable, "-c", "from mlmon_cli.cli import main; main(prog_name='mlmon')"]
    script = subprocess.run(run, env={**os.environ, "_MLMON_COMPLETE": "bash_source"}, capture_output=True, text=True)
    assert script.returncode == 0 and "complete -o nosort -F _mlmon_completion mlmon" in script.stdout
    env = {**os.environ, "_MLMON_COMPLETE": "bash_complete", "COMP_WORDS": "mlmon de", "COMP_CWORD": "1"}
    words = subprocess.run(run, env=env, capture_output=True, text=True).stdout.split()
    assert "plain,delete" in words and "plain,deploy" in words
