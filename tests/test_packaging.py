"""`pip install .` (not only editable) ships what the CLI reads at run time: templates and specs."""

from __future__ import annotations

import pytest

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT

pytestmark = pytest.mark.slow  # cfn-lint, moto, a subprocess or large specs: not in the fast loop


def test_wheel_ships_templates_and_runs_from_an_install(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], check=True)
    (wheel,) = dist.glob("mlmon-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for template in (ROOT / "templates").rglob("*.j2"):
        assert f"mlmon_cli/templates/{template.relative_to(ROOT / 'templates').as_posix()}" in names
    assert "mlmon_cli/specs/churn-model.yaml" in names
    assert "mlmon_cli/specs/mlmon.schema.json" in names  # next to the examples their modeline names
    assert "mlmon_cli/rules/cfnlint/mlmon_rules.py" in names  # what `cfn-lint --append-rules "$(mlmon rules --path)"` loads
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True)
    probe = (
        "import mlmon_cli, mlmon_cli.render as r, sys;"
        "assert mlmon_cli.__file__.startswith(sys.argv[1]), mlmon_cli.__file__;"
        "assert str(r.templates_dir()).startswith(sys.argv[1]), r.templates_dir();"
        "from mlmon_cli.cli import main; main(sys.argv[2:])"
    )
    out = tmp_path / "t.yaml"
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(site), "generate", str(site / "mlmon_cli" / "specs" / "churn-model.yaml"), "-o", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "First step:" in out.read_text()
