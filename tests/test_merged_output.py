"""Issue 10: `init --from-template`, merged output, CloudFormation values in name fields, name checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlmon_cli.cli import EXIT_INPUT, main
from mlmon_cli.core.build import build_template
from mlmon_cli.serialize import dump
from mlmon_cli.errors import SpecError
from mlmon_cli.lint import lint_files
from mlmon_cli.core.pipeline import load_spec, parse_spec
from mlmon_cli.spec.app_template import load_app_template

APP = Path(__file__).parent / "data" / "app" / "app.yaml"


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    shutil.copy(APP, tmp_path / "app.yaml")
    return tmp_path


def _init_and_generate(runner, folder: Path) -> dict:
    result = runner.invoke(main, ["init", "--from-template", str(folder / "app.yaml"), "-o", str(folder / "spec.yaml")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "mlmon: 2 resource(s) watched, 0 not watched (listed as comments)\n"
    result = runner.invoke(main, ["generate", str(folder / "spec.yaml"), "-o", str(folder / "out.yaml")])
    assert result.exit_code == 0, result.stderr
    return _load(folder / "out.yaml")


def _load(path: Path) -> dict:
    """Merged output as CloudFormation reads it: it keeps the app template's short-form tags."""
    import json

    from cfnlint.decode import decode_str

    data, matches = decode_str(path.read_text())
    assert not matches, matches
    return json.loads(json.dumps(data, default=str))


@pytest.mark.slow  # cfn-lint
def test_init_infers_settings_and_generate_merges_into_the_app_template(runner, app_dir: Path) -> None:
    out = _init_and_generate(runner, app_dir)
    spec = (app_dir / "spec.yaml").read_text()
    assert "template: app.yaml\n" in spec
    assert "    resource: Scorer            # AWS::Serverless::Function\n    timeout_seconds: 60" in spec
    assert "    # Condition IsProd: the monitoring is created only when it is true\n    timeout_seconds: 3" in spec
    original = load_app_template(APP, "app.yaml").data
    assert out["Transform"] == "AWS::Serverless-2016-10-31"
    for section in ("Parameters", "Conditions", "Outputs", "Resources"):
        assert {k: out[section][k] for k in original[section]} == original[section]
    scorer = out["Resources"]["ScorerErrorsAlarm"]["Properties"]
    assert scorer["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Scorer"}}]
    nightly = out["Resources"]["NightlyErrorsAlarm"]
    assert nightly["Condition"] == "IsProd"
    assert nightly["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Nightly"}}]
    assert nightly["Properties"]["Threshold"] == 1
    assert out["Resources"]["NightlyDurationP90Alarm"]["Properties"]["Threshold"] == 2400  # 80 % of Lambda's 3 s default
    # no solution composite by default (core/rollup.py), so no rule has to leave out the conditional component;
    # its own composite carries its condition
    composites = {k: r for k, r in out["Resources"].items() if r["Type"] == "AWS::CloudWatch::CompositeAlarm"}
    assert sorted(composites) == ["NightlyWarningComposite", "ScorerWarningComposite"]
    assert composites["NightlyWarningComposite"]["Condition"] == "IsProd" and "Condition" not in composites["ScorerWarningComposite"]
    assert nightly["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]  # its only critical alarm notifies itself
    findings = [str(f) for f in lint_files([("out.yaml", (app_dir / "out.yaml").read_text())]) if f.is_error]
    assert findings == []


def test_merged_output_is_deterministic(runner, app_dir: Path) -> None:
    _init_and_generate(runner, app_dir)
    first = (app_dir / "out.yaml").read_bytes()
    assert runner.invoke(main, ["generate", str(app_dir / "spec.yaml"), "-o", str(app_dir / "out.yaml")]).exit_code == 0
    assert (app_dir / "out.yaml").read_bytes() == first


def test_a_name_the_template_already_uses_is_a_located_error(runner, app_dir: Path) -> None:
    text = (app_dir / "app.yaml").read_text().replace("  ScorerName: {Value: !Ref Scorer}", "  AlertTopicArn: {Value: !Ref Scorer}")
    (app_dir / "app.yaml").write_text(text)
    message = (f"{app_dir / 'app.yaml'}:25:3: Outputs.AlertTopicArn: mlmon needs the name 'AlertTopicArn' "
               "for its own output; rename it in your template\n")
    result = runner.invoke(main, ["init", "--from-template", str(app_dir / "app.yaml"), "-o", str(app_dir / "spec.yaml")])
    assert (result.exit_code, result.stderr) == (EXIT_INPUT, message)  # init says so itself (issue 22) and writes nothing
    assert not (app_dir / "spec.yaml").exists()
    (app_dir / "spec.yaml").write_text(f"solution: s\ntemplate: app.yaml\nnotifications: {{emails: [a@b.co]}}\n"
                                       "components:\n  - {kind: lambda, name: scorer, resource: Scorer, timeout_seconds: 60}\n")
    result = runner.invoke(main, ["generate", str(app_dir / "spec.yaml")])
    assert (result.exit_code, result.stderr) == (EXIT_INPUT, message)


def test_a_template_that_does_not_parse_is_located(runner, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("Resources:\n  A:\n    Type: [\n")
    result = runner.invoke(main, ["init", "--from-template", str(tmp_path / "bad.yaml")])
    assert result.exit_code == EXIT_INPUT
    # YAML reports the unclosed flow at 4:1, a line the file does not have: the end of its last line instead (issue 22)
    assert result.stderr.startswith(f"{tmp_path / 'bad.yaml'}:3:12: (file): template does not parse: ")
    assert "Traceback" not in result.stderr


SPEC = """\
solution: s
notifications: {emails: [a@example.com]}
template: app.yaml
components:
  - {kind: %s, name: a, resource: %s}
"""


@pytest.mark.parametrize("kind,resource,message", [
    ("lambda", "Scorerr", "5:39: components[0].resource: no resource 'Scorerr' in {app} (did you mean 'Scorer'?)"),
    ("glue_job", "Scorer", "5:41: components[0].resource: 'Scorer' is a AWS::Serverless::Function: use kind 'lambda', not 'glue_job'"),
])
def test_resource_binding_problems(app_dir: Path, kind: str, resource: str, message: str) -> None:
    (app_dir / "spec.yaml").write_text(SPEC % (kind, resource))
    with pytest.raises(SpecError) as exc:
        load_spec(app_dir / "spec.yaml", "spec.yaml")
    assert [str(p) for p in exc.value.problems] == ["spec.yaml:" + message.format(app="app.yaml")]


SEPARATE = """\
solution: s
parameters:
  FnName: {default: churn-score, description: the scoring function}
notifications: {emails: [a@example.com]}
components:
  - {kind: lambda, name: a, timeout_seconds: 60, function_name: %s}
"""


def _problems(value: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        parse_spec(SEPARATE % value, "spec.yaml")
    return [str(p) for p in exc.value.problems]


@pytest.mark.slow  # cfn-lint
def test_cloudformation_values_in_name_fields_for_a_separate_stack() -> None:
    for value, dimension in [("!Ref FnName", {"Ref": "FnName"}), ("{Ref: FnName}", {"Ref": "FnName"}),
                             ("!Sub '${FnName}-v2'", {"Fn::Sub": "${FnName}-v2"}),
                             ("!ImportValue shared-fn", {"Fn::Sub": ["${MlmonImport1}", {"MlmonImport1": {"Fn::ImportValue": "shared-fn"}}]})]:
        tpl = build_template(parse_spec(SEPARATE % value, "spec.yaml")).template.to_dict()
        assert tpl["Parameters"]["FnName"] == {"Type": "String", "Default": "churn-score", "Description": "the scoring function"}
        assert tpl["Resources"]["AErrorsAlarm"]["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": dimension}], value
        assert [str(f) for f in lint_files([("t.yaml", dump(tpl, "yaml"))]) if f.is_error] == []


def test_names_that_cannot_be_what_was_meant_are_located_with_a_hint() -> None:
    assert _problems("arn:aws:lambda:us-east-1:123456789012:function:f") == [
        "spec.yaml:6:65: components[0].function_name: this is an ARN, not a name: give the function name (the part after ':function:')"]
    assert _problems("'${FnName}'") == [
        "spec.yaml:6:65: components[0].function_name: contains '${', which CloudFormation would read as a substitution; "
        "write '$ {' or remove it"]
    assert _problems("'!Ref FnName'") == [
        "spec.yaml:6:65: components[0].function_name: '!Ref FnName' is quoted text, not a CloudFormation value: write it without quotes"]
    assert _problems("!Ref FnNam") == [
        "spec.yaml:6:65: components[0].function_name: !Ref FnNam: no parameter 'FnNam' in the spec's 'parameters:' (did you mean 'FnName'?)"]
    assert _problems('"a\\nb"') == ["spec.yaml:6:65: components[0].function_name: a name cannot contain a line break"]


def test_state_machine_arn_in_the_name_field_suggests_state_machine_arn() -> None:
    spec = SEPARATE.replace("{kind: lambda, name: a, timeout_seconds: 60, function_name: %s}",
                            "{kind: step_functions, name: a, state_machine_name: 'arn:aws:states:us-east-1:123456789012:stateMachine:x'}")
    with pytest.raises(SpecError) as exc:
        parse_spec(spec, "spec.yaml")
    assert [str(p) for p in exc.value.problems] == [
        "spec.yaml:6:57: components[0].state_machine_name: this is an ARN: use `state_machine_arn`"]


def test_ref_of_an_undeclared_name_and_unknown_tags_are_located_not_a_crash(runner, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SEPARATE.replace("  FnName: {default: churn-score, description: the scoring function}\n", "  Other: x\n")
                    % "!Ref MyFunction" + "  - {kind: glue_job, name: b, job_name: !GetAZs x}\n")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.exit_code == EXIT_INPUT
    assert result.stderr == (
        f"{spec}:6:65: components[0].function_name: !Ref MyFunction: no parameter 'MyFunction' in the spec's 'parameters:'\n"
        f"{spec}:7:41: components[1].job_name: unknown tag !GetAZs: a name may be !Ref, !Sub, !GetAtt or !ImportValue\n")


def test_non_finite_number_in_the_template_is_located_for_json_output(runner, tmp_path: Path) -> None:
    """YAML's `.inf` / `.nan` have no JSON spelling: --format json refuses them where the user
    wrote them (it crashed, exit 70); YAML output writes them back as YAML spells them."""
    (tmp_path / "app.yaml").write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties: {FunctionName: scorer, Runtime: python3.12, Handler: i.h, Role: arn:aws:iam::1:role/r,\n"
        "                 Code: {ZipFile: x}}\n"
        "  Alarm:\n"
        "    Type: AWS::CloudWatch::Alarm\n"
        "    Properties:\n"
        "      Threshold: .inf\n"
        "      Dimensions:\n"
        "        - -.inf\n"
        "      Extra: {Nan: .NaN}\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\ntemplate: app.yaml\nnotifications: {emails: [a@b.co]}\n"
                    "components:\n  - {kind: lambda, name: fn, resource: Fn, timeout_seconds: 3}\n")
    out = tmp_path / "out.json"
    out.write_text("previous\n")
    result = runner.invoke(main, ["generate", str(spec), "--format", "json", "-o", str(out)])
    app = tmp_path / "app.yaml"
    assert (result.exit_code, result.stderr) == (EXIT_INPUT, (
        f"{app}:9:7: Resources.Alarm.Properties.Threshold: must be a finite number in a JSON template, got .inf (JSON has no Infinity or NaN)\n"
        f"{app}:11:9: Resources.Alarm.Properties.Dimensions[0]: must be a finite number in a JSON template, got -.inf (JSON has no Infinity or NaN)\n"
        f"{app}:12:15: Resources.Alarm.Properties.Extra.Nan: must be a finite number in a JSON template, got .nan (JSON has no Infinity or NaN)\n"))
    assert out.read_text() == "previous\n"  # untouched
    yaml_out = runner.invoke(main, ["generate", str(spec)])
    assert yaml_out.exit_code == 0, yaml_out.stderr
    assert "      Threshold: .inf\n" in yaml_out.stdout and "        - -.inf\n" in yaml_out.stdout
