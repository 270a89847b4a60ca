"""`.pre-commit-hooks.yaml` works as users run it: `pre-commit try-repo` installs mlmon from this repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_rules import MACHINE

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_hooks_validate_specs_and_lint_templates(tmp_path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("try-repo needs this repository as a git checkout")
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / "templates").mkdir()
    shutil.copy(ROOT / "specs" / "ml-jobs.yaml", project / "specs" / "good.yaml")
    text = (ROOT / "specs" / "churn-model.yaml").read_text(encoding="utf-8")
    (project / "specs" / "bad.yaml").write_text(text.replace("function_name: churn-preprocess", "function_nme: x", 1))
    (project / "templates" / "machine.yaml").write_text(MACHINE)
    (project / "notes.yaml").write_text("not: [a spec\n")  # outside the hooks' default files: never checked
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PRE_COMMIT_COLOR": "never"}
    exe = Path(sys.executable).with_name("pre-commit")
    result = subprocess.run([str(exe), "try-repo", str(ROOT), "--all-files"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    out = result.stdout + result.stderr
    if "Could not find a version" in out or "Failed to establish a new connection" in out:
        pytest.skip("pre-commit could not install mlmon's dependencies: no package index reachable")
    assert result.returncode == 1, out
    assert "mlmon validate...........................................................Failed" in out
    assert "specs/bad.yaml:14:5: components[0].function_nme: unknown key 'function_nme' (did you mean 'function_name'?)" in out
    assert "specs/good.yaml: ok (7 components)" in out
    assert "mlmon lint...............................................................Failed" in out
    assert "templates/machine.yaml:17:65: ASL040: Machine: DefinitionString.States.Train.Catch[0].Next:" in out
    assert "notes.yaml" not in out
