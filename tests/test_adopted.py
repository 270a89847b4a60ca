"""Adopted templates (issue 19): every command works on every spec `init --from-template` writes
and on every name form (`Ref`, `GetAtt`, `Sub`, `ImportValue`, spec parameters)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlmon_cli.cli import main
from mlmon_cli.plan import cfn_text

from .conftest import ROOT

ADOPTED = ROOT / "tests" / "data" / "adopted"
CORPUS = ROOT.parent / "shared" / "corpus" / "templates"


@pytest.fixture
def adopted(tmp_path: Path) -> Path:
    for f in ADOPTED.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_cfn_text_shows_every_name_form() -> None:
    assert cfn_text("plain") == "plain"
    assert cfn_text({"Ref": "Fn"}) == "${Fn}"
    assert cfn_text({"Fn::GetAtt": ["Flow", "Name"]}) == "${Flow.Name}"
    assert cfn_text({"Fn::GetAtt": "Flow.Name"}) == "${Flow.Name}"
    assert cfn_text({"Fn::Sub": "${AWS::StackName}-x"}) == "${AWS::StackName}-x"
    assert cfn_text({"Fn::Sub": ["${A}-y", {"A": {"Fn::ImportValue": "exp"}}]}) == "${ImportValue exp}-y"
    assert cfn_text({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "z"]]}) == "${AWS::StackName}-z"
    assert cfn_text({"Fn::If": ["C", "a", "b"]}) == '{"Fn::If": ["C", "a", "b"]}'


def test_plan_reads_every_name_form(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["plan", "monitoring.yaml", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["${AWS::StackName}-score-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${ScoreFunction})"
    assert rows["${AWS::StackName}-features-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${FeatureFunction})"
    assert rows["${AWS::StackName}-external-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=${ScoringName})"
    assert rows["${AWS::StackName}-staged-Errors"]["watches"] == "Sum of AWS/Lambda Errors (FunctionName=features-${Stage})"
    assert rows["${EtlJobRunFailedRule}"]["threshold"] == 'matches jobName ["${ImportValue churn-etl-job-name}"]; state ["FAILED","TIMEOUT"]'
    assert rows["${AWS::StackName}-score-Errors"]["severity"] == "critical"  # read from an Fn::Sub AlarmDescription
    assert rows["${AWS::StackName}-score-DurationP90"]["threshold"].startswith("> 24000 ms,")
    # mlmon's rules are named by CloudFormation (Ref); the app's own schedule rule notifies nobody: not a row
    assert rows["${FlowExecutionFailedEventRule}"]["recipients"] == ["email oncall@example.com"]
    assert "${AWS::StackName}-nightly" not in rows


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["plan", "--format", "json"], ["generate", "-o", "out.yaml"]])
def test_commands_exit_0_on_every_name_form(runner, adopted: Path, monkeypatch, command: list[str]) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, [command[0], "monitoring.yaml", *command[1:]])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_lint_exit_0_on_every_name_form(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["lint", "monitoring.yaml"])
    assert res.exit_code == 0, res.output


CORPUS_TEMPLATES = sorted(CORPUS.glob("t*")) if CORPUS.is_dir() else []
# t29 declares nothing mlmon watches (a Service Catalog portfolio): init says so and writes no spec (exit 1)
NOTHING_TO_WATCH = {"t29_drift-detection_service-catalog_NEGATIVE.yml"}


def _adopt(runner, template: Path, folder: Path) -> None:
    shutil.copy(template, folder / template.name)
    res = runner.invoke(main, ["init", "--from-template", template.name, "-o", "monitoring.yaml"])
    assert res.exit_code == 0, f"{template.name}: init: {res.output}"


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS_TEMPLATES, reason="../shared/corpus/templates is not beside the clone")
def test_every_command_exits_0_on_every_corpus_spec(runner, tmp_path: Path, monkeypatch) -> None:
    """init -> validate, generate, plan (markdown and JSON), lint: exit 0 for every corpus template."""
    failures = []
    for template in CORPUS_TEMPLATES:
        folder = tmp_path / template.stem
        folder.mkdir()
        monkeypatch.chdir(folder)
        if template.name in NOTHING_TO_WATCH:  # issue 18: init exits 1 and writes no spec that generate would refuse
            shutil.copy(template, folder / template.name)
            res = runner.invoke(main, ["init", "--from-template", template.name, "-o", "monitoring.yaml"])
            assert res.exit_code == 1 and "nothing in this template is a resource mlmon can watch" in res.output, res.output
            assert not (folder / "monitoring.yaml").exists()
            continue
        _adopt(runner, template, folder)
        for command in (["validate"], ["generate", "-o", "out.yaml"], ["plan"], ["plan", "--format", "json"], ["lint"]):
            res = runner.invoke(main, [command[0], "monitoring.yaml", *command[1:]])
            if res.exit_code != 0:
                failures.append(f"{template.name}: {' '.join(command)} exit {res.exit_code}: {res.output[-300:]}")
    assert failures == []


# ---- no silent overwrite (part 2) ------------------------------------------------------------
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generate_refuses_to_write_over_its_input_template(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "app.yaml"])
    assert res.exit_code == 1
    assert res.stderr == (
        "mlmon: -o app.yaml is the spec's input template (template: in monitoring.yaml): generate would replace your "
        "template with the merged output and the next generate would read that; nothing written. Write the merged "
        "output to another file, e.g. -o app-monitored.yaml, and deploy that\n")
    assert _snapshot(adopted) == before


def test_generate_refuses_to_write_over_its_spec(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "./monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("mlmon: -o monitoring.yaml is the spec itself: generate would replace it with the template; "
                          "nothing written. Write the template to another file, e.g. -o monitoring-monitored.yaml\n")
    assert _snapshot(adopted) == before


def test_init_refuses_to_replace_a_spec_without_force(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    before = _snapshot(adopted)
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("mlmon: monitoring.yaml exists: init would replace it and lose your edits; nothing written. "
                          "Pass --force to replace it, or write the new spec elsewhere with -o\n")
    assert _snapshot(adopted) == before
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml", "--force"])
    assert res.exit_code == 0, res.output
    assert (adopted / "monitoring.yaml").read_text() != before["monitoring.yaml"].decode()


# ---- never an undeployable merged output (part 3) ----------------------------------------------
def _functions_template(count: int) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:"]
    for i in range(count):
        lines += [f"  Fn{i}:", "    Type: AWS::Lambda::Function", "    Properties:", "      Runtime: python3.12",
                  "      Handler: index.handler", "      Role: arn:aws:iam::123456789012:role/r", "      Timeout: 60",
                  "      Code:", "        ZipFile: 'def handler(e, c): return 1'"]
    return "\n".join(lines) + "\n"


def test_70_functions_merged_is_refused_with_exit_4_naming_the_limit(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(_functions_template(70))
    assert runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"]).exit_code == 0
    before = _snapshot(tmp_path)
    for command in (["generate", "monitoring.yaml", "-o", "out.yaml"], ["validate", "monitoring.yaml"], ["plan", "monitoring.yaml"]):
        res = runner.invoke(main, command)
        assert res.exit_code == 4, res.output
        assert res.stderr == (
            "mlmon: the merged template would have 568 resources (70 of app.yaml + 498 of mlmon); CloudFormation allows "
            "500 per template. Nothing written. Watch fewer resources (list logical IDs under 'exclude:'), or monitor from "
            "a separate stack: mlmon init --from-stack STACK_NAME (its output splits into nested stacks)\n")
    assert _snapshot(tmp_path) == before
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out", "--split"])
    assert res.exit_code == 2 and "never split" in res.stderr


def test_60_functions_merged_fit_one_template(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(_functions_template(60))
    assert runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "monitoring.yaml"]).exit_code == 0
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"])
    assert res.exit_code == 0, res.output
    from cfnlint.decode import decode_str

    merged, _ = decode_str((tmp_path / "out.yaml").read_text())
    assert 60 < len(merged["Resources"]) <= 500


# ---- watch by default (part 5) -------------------------------------------------------------------
LATE_FUNCTION = """\
  LateFunction:             # added after init
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt FeatureRole.Arn
      Timeout: 120
      Code:
        ZipFile: 'def handler(e, c): return 1'
"""


def _add_resource(template: Path, text: str) -> None:
    body = template.read_text()
    template.write_text(body.replace("Outputs:\n", text + "Outputs:\n", 1))


def test_a_function_added_after_init_is_watched_by_the_next_generate(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "init.yaml"])
    assert res.exit_code == 0, res.output
    assert "exclude: []" in (adopted / "init.yaml").read_text()
    res = runner.invoke(main, ["generate", "init.yaml", "-o", "before.yaml"])
    assert res.exit_code == 0 and "watched by default" not in res.stderr  # init listed every resource
    _add_resource(adopted / "app.yaml", LATE_FUNCTION)
    res = runner.invoke(main, ["generate", "init.yaml", "-o", "after.yaml"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == (
        "mlmon: watched by default (1 resource(s) of app.yaml the spec does not list): LateFunction (lambda); "
        "list a logical ID under 'exclude:' to leave it unwatched")
    merged = (adopted / "after.yaml").read_text()
    assert "LateFunctionErrorsAlarm:" in merged and "FunctionName=${LateFunction}" in merged
    assert "> 96000 ms" in merged  # the Duration p90 threshold init would write: 80 % of the template's Timeout
    plan = runner.invoke(main, ["plan", "init.yaml", "--format", "json"])
    assert "${AWS::StackName}-late-function-Errors" in {r["name"] for r in json.loads(plan.stdout)["rows"]}


def test_exclude_leaves_a_resource_unwatched(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    _add_resource(adopted / "app.yaml", LATE_FUNCTION)
    spec = adopted / "monitoring.yaml"
    spec.write_text(spec.read_text().replace("components:\n", "exclude: [LateFunction]\ncomponents:\n", 1))
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"])
    assert res.exit_code == 0, res.output
    assert "watched by default" not in res.stderr and "LateFunction}" not in (adopted / "out.yaml").read_text()


def test_exclude_names_resources_of_the_template(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    spec = adopted / "monitoring.yaml"
    spec.write_text(spec.read_text().replace("components:\n", "exclude: [ScoreFuncton]\ncomponents:\n", 1))
    res = runner.invoke(main, ["validate", "monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == "monitoring.yaml:8:11: exclude[0]: no resource 'ScoreFuncton' in app.yaml (did you mean 'ScoreFunction'?)\n"


# ---- reviewable output (part 6) ------------------------------------------------------------------
def _removed(before: str, after: str) -> list[str]:
    import difflib

    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]


def test_merged_yaml_keeps_the_users_text_and_only_adds_lines(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    assert runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"]).exit_code == 0
    before, after = (adopted / "app.yaml").read_text(), (adopted / "out.yaml").read_text()
    assert _removed(before, after) == []
    resources = "Resources:\n" + before.split("Resources:\n")[1].split("Outputs:\n")[0]
    assert resources in after  # comments, order, !Sub/!GetAtt, inline code: as written, mlmon's resources after them
    assert "  Stage:\n    Type: String\n    Default: dev\n  ScoringName:\n" in after  # the spec's parameter added last
    assert "      Name: !Sub ${AWS::StackName}-nightly\n" in after and "  ScoreFunction:            # CloudFormation names it" in after
    from cfnlint.decode import decode_str

    written, _ = decode_str(after)
    assert "ScoreErrorsAlarm" in written["Resources"] and "AlertTopicArn" in written["Outputs"]


def test_merged_json_keeps_the_users_order(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    from cfnlint.decode import decode_str

    data, _ = decode_str((adopted / "app.yaml").read_text())
    shuffled = {"Resources": dict(reversed(list(data["Resources"].items()))), **{k: v for k, v in data.items() if k != "Resources"}}
    (adopted / "app.json").write_text(json.dumps(shuffled, indent=4, default=str))
    spec = adopted / "monitoring.yaml"
    spec.write_text(spec.read_text().replace("template: app.yaml", "template: app.json"))
    assert runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.json"]).exit_code == 0
    out = json.loads((adopted / "out.json").read_text())
    assert list(out)[:len(shuffled)] == list(shuffled)
    assert list(out["Resources"])[:len(shuffled["Resources"])] == list(shuffled["Resources"])
    assert {k: out["Resources"][k] for k in shuffled["Resources"]} == json.loads(json.dumps(shuffled["Resources"], default=str))


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS_TEMPLATES, reason="../shared/corpus/templates is not beside the clone")
def test_every_corpus_merged_output_only_adds_lines(runner, tmp_path: Path, monkeypatch) -> None:
    """A diff of each YAML input and its merged output has no removed line; JSON keeps the user's order;
    no output over 500 resources; every physical name mlmon adds comes from the stack name."""
    from cfnlint.decode import decode_str

    failures = []
    for template in CORPUS_TEMPLATES:
        if template.name in NOTHING_TO_WATCH:
            continue
        folder = tmp_path / template.stem
        folder.mkdir()
        monkeypatch.chdir(folder)
        _adopt(runner, template, folder)
        out = folder / ("out.json" if template.suffix == ".json" else "out.yaml")
        res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", out.name])
        assert res.exit_code == 0, res.output
        before, after = template.read_text(), out.read_text()
        merged, _ = decode_str(after)
        original, _ = decode_str(before)
        if template.suffix == ".json":
            if list(json.loads(after)["Resources"])[:len(original["Resources"])] != list(original["Resources"]):
                failures.append(f"{template.name}: resources reordered")
        elif _removed(before, after):
            failures.append(f"{template.name}: {len(_removed(before, after))} removed line(s), e.g. {_removed(before, after)[0]}")
        if len(merged["Resources"]) > 500:
            failures.append(f"{template.name}: {len(merged['Resources'])} resources")
        for logical, res_ in merged["Resources"].items():
            if logical in original["Resources"]:
                continue
            props = res_.get("Properties") or {}
            for key in ("AlarmName", "TopicName", "Name", "DashboardName", "AliasName", "FilterName", "StateMachineName",
                        "ConfigurationName"):
                value = props.get(key)
                if value is not None and "${AWS::StackName}" not in json.dumps(value):
                    failures.append(f"{template.name}: {logical}.{key} = {value!r} does not depend on the stack name")
    assert failures == []


# ---- smaller defects (part 7) --------------------------------------------------------------------
OWN_KEY_AND_ALARMS = """\
  AppKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy: {Version: '2012-10-17', Statement: []}
  QuietAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ActionsEnabled: false
      AlarmActions: [arn:aws:sns:us-east-1:123456789012:t]
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
  SilentAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt FeatureRole.Arn
      Code: {ZipFile: 'def handler(e, c): return 1'}
  Seed:
    Type: Custom::Seed
    Properties:
      ServiceToken: !GetAtt Handler.Arn
"""


def test_the_bill_counts_only_what_mlmon_adds(adopted: Path) -> None:
    from mlmon_cli.core.cost import estimate
    from mlmon_cli.core.pipeline import generate, load_path

    _add_resource(adopted / "app.yaml", OWN_KEY_AND_ALARMS)
    result = generate(load_path(adopted / "monitoring.yaml"))
    text = "\n".join(estimate(result).text())
    assert "KMS customer-managed key: 1 x $1.00" in text  # mlmon's alert key, not the app's AppKey
    assert f"metric alarm (standard resolution): {result.alarms} x $0.10" in text  # not QuietAlarm, SilentAlarm


def test_init_lists_handlers_and_silent_alarms_with_the_reason(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    _add_resource(adopted / "app.yaml", OWN_KEY_AND_ALARMS)
    assert runner.invoke(main, ["init", "--from-template", "app.yaml", "-o", "init.yaml"]).exit_code == 0
    text = (adopted / "init.yaml").read_text()
    assert ("#   Handler (AWS::Lambda::Function): a custom-resource handler (ServiceToken of Seed): it runs only while the "
            "stack deploys and CloudFormation reports its failure; add a component by hand to watch it\n") in text
    assert ("#   QuietAlarm (AWS::CloudWatch::Alarm): your alarm notifies nobody (ActionsEnabled: false): "
            "enable its actions, or nobody hears it\n") in text
    assert ("#   SilentAlarm (AWS::CloudWatch::Alarm): your alarm notifies nobody (no AlarmActions): "
            "give it an SNS topic, or nobody hears it\n") in text
    res = runner.invoke(main, ["generate", "monitoring.yaml", "-o", "out.yaml"])  # nor watched by default
    assert res.exit_code == 0 and "Handler" not in res.stderr


def test_generate_on_a_cloudformation_template_suggests_init(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    res = runner.invoke(main, ["generate", "app.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("app.yaml:1:1: (file): this is a CloudFormation template, not an mlmon spec: write a spec that "
                          "watches it with `mlmon init --from-template app.yaml -o monitoring.yaml`, then give that spec\n")


def test_a_resource_without_type_is_a_located_error(runner, adopted: Path, monkeypatch) -> None:
    monkeypatch.chdir(adopted)
    _add_resource(adopted / "app.yaml", "  Typeless:\n    Properties: {}\n")
    res = runner.invoke(main, ["validate", "monitoring.yaml"])
    assert res.exit_code == 1
    assert res.stderr == ("app.yaml:66:3: Resources.Typeless: a resource needs a 'Type' (e.g. AWS::Lambda::Function); "
                          "CloudFormation refuses it without one\n")


def test_deploy_diff_shows_where_a_long_string_changed() -> None:
    from mlmon_cli.aws.diff import format_changes

    before = "[critical] " + "x" * 300 + " threshold 5 in 1 of 1 periods"
    after = "[critical] " + "x" * 300 + " threshold 9 in 1 of 1 periods"
    [line] = format_changes([("Properties.AlarmDescription", before, after)])
    old, new = line.split(": ", 1)[1].split(" -> ")
    assert old != new and "threshold 5 in 1 of 1 periods" in old and "threshold 9 in 1 of 1 periods" in new
    assert old.startswith("...x") and len(old) <= 160
