"""Issue 15: `init --from-template` discovers the Bedrock and newer SageMaker resource types, the spec it
writes starts with the yaml-language-server modeline and validates against `mlmon schema`."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlmon_cli.cli import main
from mlmon_cli.components import builtin_kinds
from mlmon_cli.discover import not_watched, reason, watchable
from mlmon_cli.lint import lint_files
from mlmon_cli.schema import MODELINE
from mlmon_cli.spec.kind_facts import bindings_by_type

from .test_discover_corpus import _mentions

GENAI = Path(__file__).parent / "data" / "app" / "genai.yaml"
WATCHED = ["GuardrailV1", "DraftGuardrail", "AssistantLive", "Docs", "Ranker", "Models", "Trainer"]
NOT_WATCHED_HERE = {
    "Guardrail": "its version GuardrailV1 is watched (applications call a numbered version, not the DRAFT)",
    "Assistant": reason("AWS::Bedrock::Agent"),
    "DocsSource": reason("AWS::Bedrock::DataSource"),
}


@pytest.fixture
def genai_dir(tmp_path: Path) -> Path:
    shutil.copy(GENAI, tmp_path / "genai.yaml")
    return tmp_path


def _init(runner, folder: Path) -> str:
    result = runner.invoke(main, ["init", "--from-template", str(folder / "genai.yaml"), "-o", str(folder / "spec.yaml")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "mlmon: 7 resource(s) watched, 3 not watched (listed as comments)\n"
    return (folder / "spec.yaml").read_text()


def test_the_watch_table_is_derived_from_the_kinds_bindings() -> None:
    kinds = builtin_kinds()
    assert watchable() == {t: k for k, cls in kinds.items() for t in cls.bindings}
    assert {t: k for t, (k, _) in bindings_by_type(kinds).items()} == watchable()
    assert not set(watchable()) & set(not_watched())  # a type is either watched or has a reason, never both
    for cls in kinds.values():
        for binding in cls.bindings.values():  # every option a binding fills is one of the kind's options
            assert set(binding.options) <= {f.name for f in dataclasses.fields(cls.Options)}, cls.kind


def test_init_watches_the_new_types_and_says_why_not_the_others(runner, genai_dir: Path) -> None:
    text = _init(runner, genai_dir)
    assert text.startswith(MODELINE + "\n# mlmon spec written by `mlmon init --from-template ")
    spec = yaml.safe_load(text)
    assert [c["resource"] for c in spec["components"]] == WATCHED
    assert [c["kind"] for c in spec["components"]] == ["bedrock_model", "bedrock_model", "bedrock_model",
                                                       "bedrock_knowledge_base", "sagemaker_inference_component", "sagemaker_model_registry",
                                                       "sagemaker_hyperpod"]
    assert "    model_id: {Ref: AgentModel}   # FoundationModel of Assistant (ModelId of the agent metrics)\n" in text
    assert "    # [unverified] that ModelId is FoundationModel as written (an ID, ARN or profile): aws cloudwatch list-metrics " \
           "--namespace AWS/Bedrock/Agents --dimensions Name=AgentAliasArn,Value=<alias ARN>\n" in text
    assert "    continuous_provisioning: true   # NodeProvisioningMode Continuous" in text
    # kb-managed-observability: runtime metrics for MANAGED knowledge bases only; ingestion logs for every type
    assert "    # Type VECTOR: AWS publishes runtime metrics for MANAGED knowledge bases only; failed ingestion is " \
           "watched through its logs\n" in text
    for logical, why in NOT_WATCHED_HERE.items():
        rtype = yaml.safe_load(GENAI.read_text().replace("!", ""))["Resources"][logical]["Type"]
        assert f"#   {logical} ({rtype}): {why}\n" in text


def test_an_alias_whose_agent_is_elsewhere_and_a_cluster_without_a_name_are_explained(runner, tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(
        "Resources:\n"
        "  Alias:\n    Type: AWS::Bedrock::AgentAlias\n    Properties: {AgentAliasName: live, AgentId: ABCDEFGHIJ}\n"
        "  Cluster:\n    Type: AWS::SageMaker::Cluster\n    Properties: {}\n")
    result = runner.invoke(main, ["init", "--from-template", str(tmp_path / "app.yaml"), "-o", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 1  # nothing watchable: no spec generate would refuse ("list at least one component")
    assert not (tmp_path / "spec.yaml").exists()
    app = tmp_path / "app.yaml"
    assert result.stderr == (
        f"{app}:1:1: Resources: nothing in this template is a resource mlmon can watch, so no spec was written: add "
        "components by hand (`mlmon kinds` lists them) or run init on the template of the workload\n"
        f"{app}:2:3: Resources.Alias: AWS::Bedrock::AgentAlias: its agent or the agent's FoundationModel is not in this "
        "template, and agent metrics need the ModelId: add a bedrock_model with agent_alias_arn and model_id by hand\n"
        f"{app}:5:3: Resources.Cluster: AWS::SageMaker::Cluster: no literal, !Ref or !Sub ClusterName, and the HyperPod "
        "events name the cluster: set ClusterName (the cluster's ARN ends in its ID, not its name)\n")


def test_a_hand_written_cluster_binding_without_a_name_is_a_located_error(runner, tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("Resources:\n  Cluster:\n    Type: AWS::SageMaker::Cluster\n    Properties: {}\n")
    (tmp_path / "spec.yaml").write_text("solution: s\ntemplate: app.yaml\nnotifications: {emails: [a@example.com]}\n"
                                        "components:\n  - {kind: sagemaker_hyperpod, name: c, resource: Cluster}\n")
    result = runner.invoke(main, ["validate", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (f"{tmp_path / 'spec.yaml'}:5:51: components[0].resource: 'Cluster' has no literal, !Ref or "
                             "!Sub ClusterName: give 'cluster_name' instead of 'resource'\n")


@pytest.mark.slow
def test_init_then_generate_is_cfn_lint_clean_and_every_watched_resource_is_referenced(runner, genai_dir: Path) -> None:
    _init(runner, genai_dir)
    result = runner.invoke(main, ["generate", str(genai_dir / "spec.yaml"), "-o", str(genai_dir / "out.yaml")])
    assert result.exit_code == 0, result.stderr
    text = (genai_dir / "out.yaml").read_text()
    assert [str(f) for f in lint_files([("out.yaml", text)]) if f.is_error] == []
    from cfnlint.decode import decode_str

    out, _ = decode_str(text)
    original = yaml.safe_load(GENAI.read_text().replace("!", "_"))["Resources"]
    watchers = {k: r for k, r in out["Resources"].items() if k not in original
                and r["Type"] in ("AWS::CloudWatch::Alarm", "AWS::Events::Rule")}
    by_ref = [k for k in WATCHED if any(_mentions(r["Properties"], k) for r in watchers.values())]
    # A HyperPod cluster's ARN ends in its ID: its rules filter on the template's own ClusterName value.
    assert by_ref == [k for k in WATCHED if k != "Trainer"]
    cluster = {"Fn::Sub": "${AWS::StackName}-trainer"}
    assert watchers["TrainerClusterFailedRule"]["Properties"]["EventPattern"]["detail"]["ClusterName"] == [cluster]
    ranker = watchers["RankerInvocation5XXRateAlarm"]["Properties"]["Dimensions"]
    assert ranker == [{"Name": "InferenceComponentName", "Value": {"Fn::Sub": ["${MlmonNameRanker}", {"MlmonNameRanker": {
        "Fn::Select": [1, {"Fn::Split": ["inference-component/", {"Fn::GetAtt": ["Ranker", "InferenceComponentArn"]}]}]}}]}}]
    assert watchers["GuardrailV1GuardrailServerErrorsAlarm"]["Properties"]["Dimensions"] == [
        {"Name": "GuardrailArn", "Value": {"Fn::GetAtt": ["GuardrailV1", "GuardrailArn"]}},
        {"Name": "GuardrailVersion", "Value": {"Fn::GetAtt": ["GuardrailV1", "Version"]}}]
    assert watchers["AssistantLiveAgentServerErrorsAlarm"]["Properties"]["Dimensions"] == [
        {"Name": "Operation", "Value": "InvokeAgent"},
        {"Name": "AgentAliasArn", "Value": {"Fn::GetAtt": ["AssistantLive", "AgentAliasArn"]}},
        {"Name": "ModelId", "Value": {"Ref": "AgentModel"}}]
    # a guardrail without model_id gets guardrail alarms only (no ModelId alarm on an unknown model)
    assert sorted(k for k in watchers if k.startswith("DraftGuardrail")) == [
        "DraftGuardrailGuardrailServerErrorsAlarm", "DraftGuardrailGuardrailThrottlesAlarm"]


@pytest.mark.slow
def test_the_spec_init_writes_validates_against_mlmon_schema(runner, genai_dir: Path) -> None:
    _init(runner, genai_dir)
    schema = runner.invoke(main, ["schema"])
    assert schema.exit_code == 0
    (genai_dir / "mlmon.schema.json").write_text(schema.output)
    exe = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run([str(exe), "--schemafile", str(genai_dir / "mlmon.schema.json"), str(genai_dir / "spec.yaml")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = (genai_dir / "spec.yaml").read_text().replace("kind: sagemaker_hyperpod", "kind: sagemaker_hyperpodd")
    (genai_dir / "broken.yaml").write_text(broken)
    result = subprocess.run([str(exe), "--schemafile", str(genai_dir / "mlmon.schema.json"), str(genai_dir / "broken.yaml")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1


@pytest.mark.parametrize(("options", "message"), [
    ("", "components[0].model_id: give model_id, or guardrail_arn and guardrail_version"),
    (", agent_alias_arn: arn:aws:bedrock:us-east-1:123456789012:agent-alias/ABCDEFGHIJ/KLMNOPQRST",
     "components[0].agent_alias_arn: give model_id too: agent metrics carry Operation, AgentAliasArn and ModelId"),
])
def test_a_bedrock_model_without_model_id_needs_a_guardrail(runner, tmp_path: Path, options: str, message: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("solution: s\nnotifications: {emails: [a@example.com]}\n"
                    f"components:\n  - {{kind: bedrock_model, name: m{options}}}\n")
    result = runner.invoke(main, ["validate", str(spec)])
    assert result.exit_code == 1
    assert result.stderr.split(": ", 1)[1] == message + "\n"
    assert result.stderr.startswith(f"{spec}:4:")
