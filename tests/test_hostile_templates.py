"""Hostile templates (issue 22): whatever a user's CloudFormation or SAM template holds, `init`,
`validate`, `generate` and `plan` either understand it or report a located problem (exit 1).

Each test is one defect the template fuzzer (benchmarks/fuzz_templates.py) found, named for what
it shows; the last one runs a bounded fuzz (fixed seed) in the slow suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlmon_cli.cli import main

from .conftest import CORPUS

ROLE = "arn:aws:iam::123456789012:role/r"
LAMBDA = {"Type": "AWS::Lambda::Function",
          "Properties": {"Role": ROLE, "Runtime": "python3.12", "Handler": "index.handler", "Code": {"ZipFile": "x"}}}


def _template(resources: dict, **sections: object) -> str:
    return yaml.safe_dump({"AWSTemplateFormatVersion": "2010-09-09", **sections, "Resources": resources}, sort_keys=False)


def _run(tmp_path: Path, text: str, *commands: str) -> dict[str, tuple[int, str]]:
    """init the template, then run each command on the spec it wrote; (exit code, stderr) by command."""
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    runner = CliRunner()
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        out = {}
        result = runner.invoke(main, ["init", "--from-template", "template.yaml", "-o", "spec.yaml"])
        out["init"] = (result.exit_code, result.stderr)
        args = {"validate": ["validate", "spec.yaml"], "generate": ["generate", "spec.yaml", "-o", "out.yaml"],
                "plan": ["plan", "spec.yaml"]}
        for command in commands:
            result = runner.invoke(main, args[command])
            out[command] = (result.exit_code, result.stderr)
        return out
    finally:
        os.chdir(here)


def _spec(tmp_path: Path) -> str:
    return (tmp_path / "spec.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("rtype", [["AWS::Lambda::Function"], {"Ref": "ResourceType"}, 42, None])
def test_init_lists_a_resource_whose_type_is_not_a_string_as_not_watched(tmp_path: Path, rtype: object) -> None:
    text = _template({"Fn": LAMBDA, "Odd": {"Type": rtype, "Properties": {}}})
    out = _run(tmp_path, text, "validate")
    assert out["init"][0] == 0 and out["validate"][0] == 0
    assert "#   Odd (None): 'Type' is missing or not a string" in _spec(tmp_path)


@pytest.mark.parametrize("entry", [None, "AWS::Lambda::Function", [], 1])
def test_init_lists_a_resource_that_is_not_a_mapping_as_not_watched(tmp_path: Path, entry: object) -> None:
    out = _run(tmp_path, _template({"Fn": LAMBDA, "Odd": entry}), "validate")
    assert out["init"][0] == 0 and out["validate"][0] == 0
    assert "#   Odd (None): not a resource: expected a mapping with 'Type'" in _spec(tmp_path)


@pytest.mark.parametrize("props", [[], "props", 3])
def test_a_watched_resource_whose_properties_are_not_a_mapping_is_not_watched(tmp_path: Path, props: object) -> None:
    out = _run(tmp_path, _template({"Fn": LAMBDA, "Odd": {"Type": "AWS::Lambda::Function", "Properties": props}}), "validate")
    assert out["init"][0] == 0 and out["validate"][0] == 0
    assert "#   Odd (AWS::Lambda::Function): 'Properties' is not a mapping" in _spec(tmp_path)


@pytest.mark.parametrize("command", [[], "glueetl", {"Name": None}])
def test_init_reads_a_glue_job_whose_command_is_not_a_mapping(tmp_path: Path, command: object) -> None:
    job = {"Type": "AWS::Glue::Job", "Properties": {"Role": ROLE, "Command": command}}
    out = _run(tmp_path, _template({"Job": job}), "validate")
    assert out["init"][0] == 0 and out["validate"][0] == 0
    assert "alarms: {failed_tasks: false, heap_usage: false}" in _spec(tmp_path)


@pytest.mark.parametrize("globals_", [[], "x", {"Function": []}, {"Function": None}])
def test_init_reads_sam_globals_of_any_shape(tmp_path: Path, globals_: object) -> None:
    fn = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12", "Handler": "i.h", "InlineCode": "x"}}
    text = _template({"Fn": fn}, Transform="AWS::Serverless-2016-10-31", Globals=globals_)
    out = _run(tmp_path, text)
    assert out["init"][0] == 0
    assert "timeout_seconds: 3        # Lambda's default timeout" in _spec(tmp_path)


@pytest.mark.parametrize("config", [{"Fn::GetAtt": []}, {"Ref": ["a"]}, {"Fn::GetAtt": "Missing.Name"}])
def test_init_reads_an_endpoint_whose_config_reference_is_malformed(tmp_path: Path, config: object) -> None:
    endpoint = {"Type": "AWS::SageMaker::Endpoint", "Properties": {"EndpointConfigName": config}}
    out = _run(tmp_path, _template({"Endpoint": endpoint}))
    assert out["init"][0] == 0
    assert "its EndpointConfig is not in this template" in _spec(tmp_path)


@pytest.mark.parametrize("section,value,shape", [("Outputs", [], "a list"), ("Parameters", "x", 'the value "x"'),
                                                 ("Conditions", 1, "the value 1")])
def test_a_template_section_that_is_not_a_mapping_is_a_located_problem(tmp_path: Path, section: str, value: object,
                                                                        shape: str) -> None:
    text = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n" \
           f"    Properties: {{Role: r}}\n{section}: {yaml.safe_dump(value, default_flow_style=True).strip()}\n"
    out = _run(tmp_path, text)
    assert out["init"] == (1, f"template.yaml:6:1: {section}: expected a mapping of names to entries, not {shape}\n")


def test_a_cluster_name_naming_an_undeclared_parameter_is_not_watched(tmp_path: Path) -> None:
    cluster = {"Type": "AWS::SageMaker::Cluster", "Properties": {"ClusterName": {"Fn::Sub": "${Missing}-hp"}}}
    out = _run(tmp_path, _template({"Fn": LAMBDA, "Cluster": cluster}), "validate", "generate")
    assert out["init"][0] == 0 and out["validate"][0] == 0 and out["generate"][0] == 0
    assert "#   Cluster (AWS::SageMaker::Cluster): its ClusterName refers to Missing, which this template does not declare" \
        in _spec(tmp_path)
    assert (tmp_path / "out.yaml").read_text().count("${Missing}") == 1  # the user's own, none of mlmon's


def test_binding_a_cluster_whose_name_names_an_undeclared_parameter_is_a_located_problem(tmp_path: Path) -> None:
    cluster = {"Type": "AWS::SageMaker::Cluster", "Properties": {"ClusterName": {"Ref": "Missing"}}}
    (tmp_path / "template.yaml").write_text(_template({"Cluster": cluster}))
    (tmp_path / "spec.yaml").write_text("solution: s\ntemplate: template.yaml\nnotifications: {emails: [a@b.co]}\n"
                                        "components:\n  - kind: sagemaker_hyperpod\n    name: hp\n    resource: Cluster\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (f"{tmp_path}/spec.yaml:7:15: components[0].resource: 'Cluster' ClusterName refers to Missing, "
                             f"which {tmp_path}/template.yaml does not declare: fix it or give 'cluster_name' instead\n")


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "templates").is_dir() and os.environ.get("CI", "").lower() not in ("true", "1", "yes"),
                    reason="../shared/corpus/templates is not beside the clone")
def test_a_bounded_template_fuzz_run_breaks_no_promise() -> None:
    """30 mutated corpus templates (seed 3) through init, validate, generate, plan and cfn-lint."""
    from benchmarks.fuzz_templates import run

    figures = run(30, 3, lint=True, corpus=CORPUS / "templates")
    assert [f[3] for f in figures["failures"]] == []
    assert figures["lint_new"] == []
    assert figures["outputs written"] >= 10


def test_init_reports_a_user_resource_named_as_mlmon_names_its_own_and_writes_nothing(tmp_path: Path) -> None:
    text = _template({"Fn": LAMBDA, "AlertsTopic": {"Type": "AWS::SNS::Topic"}})
    out = _run(tmp_path, text)
    assert out["init"] == (1, "template.yaml:11:3: Resources.AlertsTopic: mlmon needs the name 'AlertsTopic' for its own "
                              "resource; rename it in your template\n")
    assert not (tmp_path / "spec.yaml").exists()


def test_a_resource_whose_condition_is_not_defined_is_not_watched(tmp_path: Path) -> None:
    """Copying the undefined Condition onto mlmon's alarms added E3015/E1019 errors to the output."""
    fn = {**LAMBDA, "Condition": "Undefined"}
    out = _run(tmp_path, _template({"Fn": fn, "Other": LAMBDA}), "validate", "generate")
    assert out["init"][0] == out["validate"][0] == out["generate"][0] == 0
    assert "#   Fn (AWS::Lambda::Function): its Condition 'Undefined' is not defined in Conditions" in _spec(tmp_path)
    assert (tmp_path / "out.yaml").read_text().count("Undefined") == 1  # the user's own


@pytest.mark.parametrize("value,written", [(1e308, "1.0e+308"), (1e-7, "1.0e-07"), (float("inf"), ".inf"),
                                           (float("-inf"), "-.inf"), (2.5, "2.5")])
def test_a_float_in_the_users_template_is_written_as_a_yaml_float(value: float, written: str) -> None:
    """`1e+308` (no dot) reads as a string in YAML 1.1: the merged output changed the user's resource."""
    from mlmon_cli.serialize import dump

    text = dump({"Resources": {"R": {"Properties": {"X": value}}}}, "yaml")
    assert f"X: {written}\n" in text
    assert yaml.safe_load(text)["Resources"]["R"]["Properties"]["X"] == value


@pytest.mark.parametrize("text,where", [
    ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: [a\n", "4:19"),  # error past the last line
    ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: [a", "4:19"),  # no final newline
    ("Description: 'a\u2028b\u2028c'\nResources:\n  Fn: {Type: AWS::Lambda::Function, Properties: [a}\n", "3:51"),
])
def test_a_template_that_does_not_parse_is_reported_at_a_line_the_file_has(tmp_path: Path, text: str, where: str) -> None:
    """YAML counts NEL/LS/PS as line breaks and reports an unclosed flow at the line after the last."""
    out = _run(tmp_path, text)
    assert out["init"][0] == 1
    assert out["init"][1].startswith(f"template.yaml:{where}: (file): template does not parse: ")


@pytest.mark.parametrize("entry", [None, "AWS::CloudWatch::Alarm", [], {"Type": "AWS::CloudWatch::Alarm", "Properties": []},
                                   {"Type": "AWS::Logs::MetricFilter", "Properties": {"MetricTransformations": 3}}])
def test_generate_prices_a_template_whose_resources_have_any_shape(tmp_path: Path, entry: object) -> None:
    """The bill read the user's resources as mappings (exit 70 in core/cost.py)."""
    out = _run(tmp_path, _template({"Fn": LAMBDA, "Odd": entry}), "generate")
    assert out["init"][0] == 0 and out["generate"][0] == 0
    assert "mlmon: estimated CloudWatch bill" in out["generate"][1]


def test_a_user_parameter_named_as_an_mlmon_resource_is_reported_at_the_parameter(tmp_path: Path) -> None:
    """Resources and Parameters share logical IDs: the merged output had E3007 (found by the template fuzzer)."""
    text = _template({"Fn": LAMBDA}, Parameters={"AlertsTopic": {"Type": "String"}})
    out = _run(tmp_path, text)
    assert out["init"] == (1, "template.yaml:3:3: Parameters.AlertsTopic: mlmon needs the name 'AlertsTopic' for its own "
                              "resource; rename it in your template\n")


def test_lint_reports_a_template_cfn_lint_cannot_read_instead_of_crashing(tmp_path: Path) -> None:
    """cfn-lint raises on `Parameters: null` (its graph reads .items()): `mlmon lint` exited 70."""
    (tmp_path / "t.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nParameters:\nResources:\n"
                                     "  F: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, "
                                     "Handler: i.h, InlineCode: x}}\n")
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "t.yaml")])
    assert result.exit_code == 3
    assert result.stdout.startswith(f"{tmp_path / 't.yaml'}:1:1: E0000: cfn-lint cannot read this template (AttributeError: ")
