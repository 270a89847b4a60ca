"""Every generated template passes cfn-lint with zero errors, and cfn-lint provably has its schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.lint import lint_template
from mlmon_cli.core.pipeline import load_spec

from .conftest import GOLDEN, GOLDEN_SPECS, SPECS

pytestmark = pytest.mark.slow  # cfn-lint, moto, a subprocess or large specs: not in the fast loop

INPUTS = SPECS + GOLDEN_SPECS


@pytest.mark.parametrize("spec_path", INPUTS, ids=[f"{p.parent.name}/{p.name}" for p in INPUTS])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_generated_template_has_no_cfn_lint_errors(spec_path: Path, fmt: str) -> None:
    text = dump(build_template(load_spec(spec_path)).template.to_dict(), fmt)
    findings = [f for f in lint_template(text, spec_path.name) if f.severity in ("error", "warning")]
    assert findings == []


def test_canary_cfn_lint_schemas_are_loaded() -> None:
    """A known-bad alarm (Period 45, which E3615 rejects) must produce a finding."""
    text = dump(build_template(load_spec(GOLDEN / "lambda_basic" / "spec.yaml")).template.to_dict(), "yaml")
    bad = text.replace("Period: 300", "Period: 45", 1)
    assert bad != text
    rules = {f.rule for f in lint_template(bad, "bad.yaml")}
    assert "E3615" in rules


def test_canary_unknown_property_is_found() -> None:
    text = dump(build_template(load_spec(GOLDEN / "glue_job_basic" / "spec.yaml")).template.to_dict(), "yaml")
    bad = text.replace("TreatMissingData: notBreaching", "TreatMissingDatum: notBreaching", 1)
    assert any(f.rule.startswith("E3") and f.is_error for f in lint_template(bad, "bad.yaml"))


def test_null_values_are_an_error() -> None:
    """CloudFormation rejects nulls ("'null' values are not allowed in templates"); cfn-lint does not say so."""
    text = dump(build_template(load_spec(GOLDEN / "lambda_basic" / "spec.yaml")).template.to_dict(), "yaml")
    bad = text.replace("TreatMissingData: notBreaching", "TreatMissingData: null", 1)
    findings = [f for f in lint_template(bad, "bad.yaml") if f.rule == "MLM007"]
    assert len(findings) == 1 and findings[0].is_error
    assert findings[0].message.endswith("/Properties/TreatMissingData is null; CloudFormation rejects null values in templates")
