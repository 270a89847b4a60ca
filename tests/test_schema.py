"""`mlmon schema`: generated from the spec model, shipped next to the examples, checked by check-jsonschema."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from mlmon_cli.cli import main
from mlmon_cli.components import load_all
from mlmon_cli.schema import MODELINE, SCHEMA_FILE, spec_schema

from .conftest import GOLDEN, ROOT, SPECS

SCHEMA = ROOT / "specs" / SCHEMA_FILE


def _check_jsonschema(*paths: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(exe), "--schemafile", str(SCHEMA), *map(str, paths)],
                          capture_output=True, text=True, timeout=300, check=False)


def test_schema_command_prints_the_shipped_schema(runner, golden) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    golden(result.output, SCHEMA)
    jsonschema.Draft7Validator.check_schema(json.loads(result.output))


def test_schema_covers_every_kind_option_and_alarm() -> None:
    schema = spec_schema()
    branches = {b["if"]["properties"]["kind"]["const"]: b["then"] for b in schema["definitions"]["component"]["allOf"]}
    registry = load_all()
    assert set(branches) == set(registry)
    for name, kind in registry.items():
        props = branches[name]["properties"]
        assert {f.name for f in dataclasses.fields(kind.Options)} <= set(props), name
        assert set(props["alarms"]["properties"]) == {a.key for a in kind.alarms}, name
    lam = branches["lambda"]["properties"]
    assert lam["function_name"]["description"] and "function_name" not in branches["lambda"]["required"]
    # a name is given, or `resource:` fills it from the template (issue 15)
    assert branches["lambda"]["anyOf"] == [{"required": ["function_name"]}, {"required": ["resource"]}]
    assert lam["function_name"]["anyOf"] == [{"type": "string"}, {"$ref": "#/definitions/cfn_value"}]
    assert "cluster_name" in branches["sagemaker_hyperpod"]["anyOf"][0]["required"]
    alarm = schema["definitions"]["alarm"]["properties"]
    assert alarm["treat_missing_data"]["enum"] == ["breaching", "notBreaching", "ignore", "missing", None]
    assert alarm["severity"]["enum"] == ["critical", "warning", None]


def test_examples_carry_the_modeline() -> None:
    for spec in SPECS:
        assert spec.read_text(encoding="utf-8").splitlines()[0] == MODELINE, spec


@pytest.mark.slow
def test_check_jsonschema_accepts_every_example_and_golden_spec() -> None:
    result = _check_jsonschema(*SPECS, *sorted(GOLDEN.glob("*/spec.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("old", "new", "message"), [
    ("function_name: churn-preprocess", "function_nme: churn-preprocess",
     "$.components[0]: Additional properties are not allowed ('function_nme' was unexpected)"),
    ("kind: lambda", "kind: lamda", "$.components[0].kind: 'lamda' is not one of"),
    ("notifications:", "notification:", "$: Additional properties are not allowed ('notification' was unexpected)"),
    ("      features:", "      feature:", "$.components[0].data_quality: Additional properties are not allowed ('feature' was unexpected)"),
])
def test_check_jsonschema_rejects_a_misspelled_key(tmp_path, old, new, message) -> None:
    text = (ROOT / "specs" / "churn-model.yaml").read_text(encoding="utf-8")
    if old not in text:
        text = (ROOT / "specs" / "realtime-platform.yaml").read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = _check_jsonschema(bad)
    assert result.returncode == 1
    assert f"{bad}::{message}" in result.stdout
