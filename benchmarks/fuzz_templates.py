"""Template fuzzer: hostile variants of real CloudFormation/SAM templates through every command a user runs.

Seeded from the public ML templates of `../shared/corpus/templates` (or `--corpus DIR`). Each case
mutates one template (1-3 mutations from the catalogue below: the shapes real templates and real
mistakes have), then runs in-process through the real CLI (click's runner), as a user would:

    mlmon init --from-template template.yaml -o spec.yaml
    mlmon validate spec.yaml ; mlmon generate spec.yaml -o out.yaml ; mlmon plan spec.yaml
    mlmon lint out.yaml      (cfn-lint + mlmon's rules, in one parallel batch at the end)

and is judged on what the README promises:

* never exit 70 (internal error), no command over 10 s of CPU (a shared machine stretches the wall clock; a
  hang is caught at 30 s of wall clock);
* every error line is a located `file:line:col: ...` line whose file exists and whose line and
  column exist in it (as an editor counts lines: LF, CRLF or CR);
* what `init` wrote, `validate` accepts; `validate` and `generate` agree on accept/reject;
* the output keeps every user entry (Resources, Parameters, Conditions, Outputs) exactly, and has
  no cfn-lint error its input did not have (compared by rule and message, numbers masked).

    python benchmarks/fuzz_templates.py                    # 600 cases, seed 5
    python benchmarks/fuzz_templates.py --count 60 --seed 3 --no-lint
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fuzz import Timeout, time_limit  # noqa: E402 - after the path set-up

CORPUS = ROOT.parent / "shared" / "corpus" / "templates"
LOCATION = re.compile(r"^(.*?):(\d+):(\d+): \S")
INFO = "mlmon: "
OK_LINE = re.compile(r"^\S.*: ok \(\d+ components\)$")
TIME_LIMIT = 10
USER_SECTIONS = ("Resources", "Parameters", "Conditions", "Outputs")

# Properties mlmon reads from a user's resources (discover, cfn_values.property_text, cost).
READ_PROPERTIES = [
    "Timeout", "StateMachineType", "Type", "DefaultArguments", "Command", "EndpointConfigName", "ProductionVariants",
    "AsyncInferenceConfig", "AgentId", "FoundationModel", "ClusterName", "NodeProvisioningMode", "GuardrailIdentifier",
    "FunctionName", "StateMachineName", "Name", "EndpointName", "PipelineName", "MemorySize", "Definition",
    "DefinitionString", "DefinitionUri", "Events", "Runtime", "Handler", "InstanceGroups", "Tags",
]
NAME_PROPERTIES = ["FunctionName", "StateMachineName", "Name", "EndpointName", "PipelineName", "ClusterName",
                   "EndpointConfigName", "AgentId", "FoundationModel", "Timeout", "GuardrailIdentifier", "StateMachineType"]
WATCHED_TYPES = [
    "AWS::Lambda::Function", "AWS::Serverless::Function", "AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine",
    "AWS::Glue::Job", "AWS::SageMaker::Endpoint", "AWS::SageMaker::Pipeline", "AWS::CodePipeline::Pipeline",
    "AWS::CodeBuild::Project", "AWS::SageMaker::InferenceComponent", "AWS::SageMaker::ModelPackageGroup",
    "AWS::SageMaker::Cluster", "AWS::Bedrock::AgentAlias", "AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion",
    "AWS::Bedrock::ApplicationInferenceProfile",
]
NEAR_MISS_TYPES = [
    "AWS::Lambda::Functions", "aws::lambda::function", "AWS::Lambda::Function ", "AWS::SageMaker::endpoint",
    "AWS::StepFunction::StateMachine", "AWS::Serverless::Functions", "Custom::Lambda", "AWS::Glue::Jobs", "",
    None, 42, ["AWS::Lambda::Function"], {"Ref": "ResourceType"}, {"Fn::Sub": "AWS::Lambda::Function"},
]
# Every intrinsic form a name property meets in the wild, and the broken ones.
INTRINSICS: list[Any] = [
    {"Ref": "MissingParameter"}, {"Ref": "AWS::StackName"}, {"Ref": "AWS::NoValue"},
    {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "fn"]]}, {"Fn::Join": ["", []]},
    {"Fn::Select": [0, ["a", "b"]]}, {"Fn::Select": [5, {"Fn::Split": [",", "a,b"]}]},
    {"Fn::ImportValue": "shared-name"}, {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-x"}},
    {"Fn::GetAtt": ["MissingResource", "Arn"]}, {"Fn::GetAtt": "MissingResource.Name"}, {"Fn::GetAtt": []},
    {"Fn::Sub": ["${Prefix}-fn", {"Prefix": {"Ref": "AWS::StackName"}}]}, {"Fn::Sub": "${Missing}-x"},
    {"Fn::Sub": ["${A}", {"A": {"Fn::ImportValue": "x"}}]}, {"Fn::Sub": "${!Literal}-${AWS::Region}"},
    {"Fn::Sub": []}, {"Fn::Sub": {"a": 1}}, {"Fn::If": ["MissingCondition", "a", "b"]},
    {"Fn::FindInMap": ["M", "K", "V"]}, {"Ref": ["a"]}, {"Ref": None}, {"Fn::Base64": "x"},
    {"Fn::Sub": "${AWS::StackName}-${AlertsTopic.TopicName}"}, {"Ref": "AlertsTopic"},
    {"Fn::GetAtt": ["AlertsTopic", "TopicName"]}, {"Fn::Sub": "fn-${AWS::Region}"},
]
HUGE_VALUES: list[Any] = [10 ** 30, -1, 0, 1.5, "30", True, None, "x" * 5000, "\U0001F600" * 300, [], {}, [1, 2],
                          {"a": {"b": 1}}, 900, 901, float("inf") if False else 1e308]
MLMON_NAMES = ["AlertsTopic", "MlmonAnyMonitored", "AlertsTopicPolicy", "AlertsKey", "Dashboard", "AlertTopicArn",
               "AlertsTopicArn", "MonitoringDashboard"]
UNKNOWN_TRANSFORMS: list[Any] = ["MyMacro", ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"],
                                 {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k.yaml"}},
                                 ["AWS::Serverless-2016-10-31", "Custom"], "AWS::Serverless-2016-10-31", 7, None]


def seeds(corpus: Path = CORPUS) -> list[tuple[str, str]]:
    """(name, text) of every corpus template."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(corpus.glob("t*")) if p.is_file()]


def parse(text: str) -> Any:
    """Template data as plain values (what mlmon sees), or None when it does not parse."""
    from cfnlint.decode import decode_str

    try:
        data, matches = decode_str(text)
    except Exception:  # noqa: BLE001 - the fuzzer's own view: unparsable is fine here
        return None
    if matches or not isinstance(data, dict):
        return None
    return json.loads(json.dumps(data, default=str))


# --- structural mutations: on template data, written back as YAML or JSON ---------------------

def _resources(data: dict[str, Any]) -> dict[str, Any]:
    res = data.get("Resources")
    if not isinstance(res, dict):
        res = data["Resources"] = {}
    return res


def _pick(rng: Random, res: dict[str, Any], watched: bool | None = None) -> str | None:
    keys = [k for k, v in res.items() if watched is None or (isinstance(v, dict) and (v.get("Type") in WATCHED_TYPES) == watched)]
    return rng.choice(keys) if keys else (rng.choice(list(res)) if res else None)


def _props(resource: Any) -> dict[str, Any]:
    if not isinstance(resource, dict):
        return {}
    props = resource.get("Properties")
    if not isinstance(props, dict):
        props = resource["Properties"] = {}
    return props


def m_logical_id(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Copy a watched resource under a long, unicode, or mlmon-colliding logical ID."""
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is None:
        return
    new = rng.choice(["L" + "ong" * 90, "Función" + key, "A" * 255, key + "Alarm", key[:1].lower() + key[1:] + "2",
                      "Mlmon" + key, *MLMON_NAMES, *ctx.get("mlmon_ids", [])[:40]])
    res[new] = copy.deepcopy(res[key])


def m_collide(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """A user entry (resource, parameter, condition, output) named as mlmon names one of its own."""
    names = list(ctx.get("mlmon_ids", [])) + MLMON_NAMES
    name = rng.choice(names)
    section = rng.choice(["Resources", "Parameters", "Conditions", "Outputs"])
    entry = {"Resources": {"Type": "AWS::SNS::Topic"}, "Parameters": {"Type": "String", "Default": "x"},
             "Conditions": {"Fn::Equals": ["a", "b"]}, "Outputs": {"Value": "x", "Export": {"Name": "AlertsTopicArn"}}}[section]
    if not isinstance(data.get(section), dict):
        data[section] = {}
    data[section][name] = entry


def m_drop_property(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Delete or null a property mlmon reads, or give Properties itself a wrong shape."""
    res = _resources(data)
    key = _pick(rng, res, True if rng.random() < 0.8 else None)
    if key is None or not isinstance(res[key], dict):
        return
    resource = res[key]
    choice = rng.random()
    if choice < 0.15:
        resource["Properties"] = rng.choice([None, [], "props", 3, {}])
        return
    props = _props(resource)
    present = [p for p in READ_PROPERTIES if p in props] or READ_PROPERTIES
    prop = rng.choice(present)
    if choice < 0.5:
        props.pop(prop, None)
    else:
        props[prop] = rng.choice([None, "", [], {}, [None], {"x": None}])


def m_near_miss_type(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is not None and isinstance(res[key], dict):
        res[key]["Type"] = rng.choice(NEAR_MISS_TYPES)


def m_supported_type(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Another resource turned into a watched type, with its own (wrong) properties or none."""
    res = _resources(data)
    key = _pick(rng, res, False)
    if key is None:
        return
    if not isinstance(res[key], dict):
        res[key] = {}
    res[key]["Type"] = rng.choice(WATCHED_TYPES)
    if rng.random() < 0.4:
        res[key].pop("Properties", None)


def m_condition(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Undefined, non-string, nested and cyclic Conditions on a watched resource."""
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is None or not isinstance(res[key], dict):
        return
    conds = data.get("Conditions")
    if not isinstance(conds, dict):
        conds = data["Conditions"] = {}
    form = rng.randrange(5)
    if form == 0:
        res[key]["Condition"] = "UndefinedCondition"
    elif form == 1:
        res[key]["Condition"] = rng.choice([["A"], {"Fn::Equals": ["a", "b"]}, 1, None, ""])
    elif form == 2:
        conds["IsProd"] = {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
        conds["Nested"] = {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsProd"}]}]}
        res[key]["Condition"] = "Nested"
    elif form == 3:
        conds["CycleA"] = {"Fn::Not": [{"Condition": "CycleB"}]}
        conds["CycleB"] = {"Fn::Not": [{"Condition": "CycleA"}]}
        res[key]["Condition"] = "CycleA"
    else:  # every watched resource conditional, on different conditions
        for n, v in enumerate(res.values()):
            if isinstance(v, dict) and v.get("Type") in WATCHED_TYPES:
                conds[f"C{n}"] = {"Fn::Equals": [{"Ref": "AWS::Region"}, f"r{n}"]}
                v["Condition"] = f"C{n}"


def m_intrinsic_name(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is None:
        return
    _props(res[key])[rng.choice(NAME_PROPERTIES)] = copy.deepcopy(rng.choice(INTRINSICS))


def m_huge(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is None:
        return
    _props(res[key])[rng.choice([*NAME_PROPERTIES, "Description", "MemorySize"])] = rng.choice(HUGE_VALUES)


def m_many(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Many copies of a watched resource: past mlmon's and CloudFormation's 500-resource limits."""
    res = _resources(data)
    key = _pick(rng, res, True)
    if key is None:
        return
    for n in range(rng.choice([20, 60, 130, 260])):
        res[f"{key}Copy{n}"] = copy.deepcopy(res[key])


def m_deep(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    key = _pick(rng, res)
    if key is None or not isinstance(res[key], dict):
        return
    value: Any = "leaf"
    for n in range(rng.choice([20, 90, 160])):
        value = {"k": value} if n % 2 else [value]
    res[key]["Metadata"] = {"Deep": value}


def m_nested_stack(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    res["ChildStack"] = rng.choice([
        {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://s3.amazonaws.com/b/child.yaml"}},
        {"Type": "AWS::Serverless::Application", "Properties": {"Location": "child.yaml"}},
        {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": {"Fn::Sub": "https://${Missing}/c.yaml"}}},
    ])


def m_depends_cycle(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    a, b = _pick(rng, res, True), _pick(rng, res)
    if a is None or b is None or not isinstance(res[a], dict) or not isinstance(res[b], dict):
        return
    res[a]["DependsOn"] = rng.choice([b, [b, b], "Missing", [None], {"x": b}])
    res[b]["DependsOn"] = a


def m_outputs(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Outputs and exports that collide with each other or with mlmon's."""
    outputs = data.get("Outputs")
    if not isinstance(outputs, dict):
        outputs = data["Outputs"] = {}
    res = _resources(data)
    key = _pick(rng, res, True) or "X"
    name = rng.choice(["AlertsTopicArn", "Dup", *ctx.get("mlmon_outputs", [])])
    outputs[name] = {"Value": {"Ref": key}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-AlertsTopicArn"}}}
    outputs[name + "Again"] = {"Value": {"Ref": key}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-AlertsTopicArn"}}}
    if rng.random() < 0.3:
        data["Outputs"] = rng.choice([None, [], "x"])


def m_lint_ignores(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    res = _resources(data)
    key = _pick(rng, res, True)
    ignores = rng.choice([["E3012", "W"], "E3012", [None], {"E": 1}, ["E1019", "E3031"]])
    target = data if key is None or rng.random() < 0.3 else res[key]
    if isinstance(target, dict):
        target["Metadata"] = {"cfn-lint": {"config": {"ignore_checks": ignores}}}


def m_transform(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    data["Transform"] = copy.deepcopy(rng.choice(UNKNOWN_TRANSFORMS))
    if rng.random() < 0.4:
        data["Globals"] = rng.choice([{"Function": {"Timeout": rng.choice(["x", None, 5, {"Ref": "T"}, 0])}},
                                      {"Function": None}, [], "x", {"Function": []}])


def m_section_shape(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """A top-level section or one resource of the wrong shape."""
    section = rng.choice(["Parameters", "Conditions", "Outputs", "Mappings", "Metadata", "Resource", "Globals"])
    if section == "Resource":
        res = _resources(data)
        key = _pick(rng, res)
        if key is not None:
            res[key] = rng.choice([None, "AWS::Lambda::Function", [], 1, {"Properties": {}}])
        return
    data[section] = rng.choice([None, [], "x", 1, {"A": None}, {"A": []}])


def m_drop_referenced(data: dict[str, Any], rng: Random, ctx: dict[str, Any]) -> None:
    """Delete a resource a watched one points at (endpoint config, agent, guardrail), or a parameter."""
    res = _resources(data)
    text = json.dumps(data)
    refs = [k for k in res if f'"Ref": "{k}"' in text or f'["{k}",' in text]
    if refs:
        del res[rng.choice(refs)]
    elif isinstance(data.get("Parameters"), dict) and data["Parameters"]:
        del data["Parameters"][rng.choice(list(data["Parameters"]))]


STRUCTURAL: list[Callable[[dict[str, Any], Random, dict[str, Any]], None]] = [
    m_logical_id, m_collide, m_drop_property, m_drop_property, m_near_miss_type, m_supported_type, m_condition,
    m_intrinsic_name, m_intrinsic_name, m_huge, m_many, m_deep, m_nested_stack, m_depends_cycle, m_outputs,
    m_lint_ignores, m_transform, m_section_shape, m_drop_referenced,
]


# --- text mutations: YAML tricks and damaged files ---------------------------------------------

def t_anchor_merge(text: str, rng: Random) -> str:
    lines = text.split("\n")
    props = [i for i, line in enumerate(lines) if re.match(r"^\s+Properties:\s*$", line) and i + 1 < len(lines)]
    if not props:
        return text
    i = rng.choice(props)
    indent = re.match(r"^(\s*)", lines[i + 1]).group(1)  # type: ignore[union-attr]
    lines.insert(i + 1, f"{indent}<<: *mlmonfuzz")
    head = "Metadata:\n  MlmonFuzz: &mlmonfuzz {Timeout: 31, MemorySize: 256}\n"
    return head + "\n".join(lines) if not re.search(r"(?m)^Metadata:", text) else "\n".join(lines).replace(
        "<<: *mlmonfuzz", "<<: {Timeout: 31}")


def t_alias_resource(text: str, rng: Random) -> str:
    """`Copy: *anchor` of a whole resource (an alias where a resource is expected)."""
    m = list(re.finditer(r"(?m)^(  )([A-Za-z0-9]+):[ \t]*$", text))
    if not m:
        return text
    target = rng.choice(m)
    text = text[:target.end()] + " &mlmonres" + text[target.end():]
    res = re.search(r"(?m)^Resources:[ \t]*$", text)
    if not res:
        return text
    return text[:res.end()] + "\n  AliasCopy: *mlmonres" + text[res.end():] if res.end() < target.start() else text


def t_duplicate_line(text: str, rng: Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def t_duplicate_block(text: str, rng: Random) -> str:
    """A resource written twice (duplicate key)."""
    blocks = list(re.finditer(r"(?m)^  [A-Za-z0-9]+:[ \t]*\n(?:(?:    .*)?\n)+", text))
    if not blocks:
        return text
    b = rng.choice(blocks)
    return text[:b.end()] + b.group(0) + text[b.end():]


def t_tabs(text: str, rng: Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines[i] = re.sub(r"^ {2}", "\t", lines[i]) if rng.random() < 0.5 else lines[i] + "\t"
    return "\n".join(lines)


def t_bom(text: str, rng: Random) -> str:
    return "\ufeff" + text


def t_crlf(text: str, rng: Random) -> str:
    return text.replace("\n", rng.choice(["\r\n", "\r"]))


def t_truncate(text: str, rng: Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def t_junk(text: str, rng: Random) -> str:
    pos = rng.randrange(len(text) + 1)
    junk = rng.choice(["\x00", "\x01\x02", "\x85", "\u2028", "\u2029", "\ufeff", "\udcff", "\x1b[31m", "&", "*x", "!",
                       "%", "{", "[", "'", '"', "\\", ":", "\r", "\x0c", "\u202e", "\U0001F600"])
    return text[:pos] + junk + text[pos:]


def t_swap(text: str, rng: Random) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def t_tags(text: str, rng: Random) -> str:
    """A short-form tag given the wrong shape, or an unknown one."""
    lines = text.split("\n")
    targets = [i for i, line in enumerate(lines) if re.match(r"^\s+[A-Za-z]+:\s+\S", line) and "#" not in line]
    if not targets:
        return text
    i = rng.choice(targets)
    key = lines[i].split(":", 1)[0]
    lines[i] = key + ": " + rng.choice(["!Ref [a, b]", "!GetAtt", "!Sub {a: 1}", "!Foo bar", "!Join x", "!Select [9, []]",
                                        "!If [Missing, a, b]", "!Ref", "!ImportValue [a]", "!GetAtt a.b.c.d", "!!binary aGk=",
                                        "!Condition Missing", "!Split [',', x]", "!Base64 [x]", "!Sub ['${X}', {X: !Ref Y}]"])
    return "\n".join(lines)


TEXTUAL: list[Callable[[str, Random], str]] = [
    t_anchor_merge, t_alias_resource, t_duplicate_line, t_duplicate_block, t_tabs, t_bom, t_crlf, t_truncate, t_junk,
    t_swap, t_tags, t_tags,
]


def dump(data: dict[str, Any], fmt: str) -> str:
    import yaml

    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10 ** 6)


def mutate(name: str, text: str, rng: Random, ctx: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(mutated text, file extension, mutation names): 1-3 mutations, structural and/or textual."""
    ext = "json" if name.endswith(".json") else "yaml"
    ops: list[str] = []
    count = rng.choice([1, 1, 2, 2, 3])
    structural = [rng.choice(STRUCTURAL) for _ in range(count) if rng.random() < 0.65]
    if structural:
        data = parse(text)
        if isinstance(data, dict):
            for op in structural:
                op(data, rng, ctx)
                ops.append(op.__name__)
            fmt = rng.choice(["yaml", "yaml", "json"])
            try:
                text, ext = dump(data, fmt), fmt
            except RecursionError:  # the dumper's own limit: keep the text as it was
                ops.append("(not dumped)")
    for _ in range(count - len(ops)):
        op = rng.choice(TEXTUAL)
        text = op(text, rng)
        ops.append(op.__name__)
    return text, ext, ops


# --- running one case ---------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one mutated template did across the commands."""

    exits: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # CPU time of each command
    wall: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    messages: str = ""
    output: str | None = None  # the generated template, when generate wrote one
    known: list[str] = field(default_factory=list)  # known defects owned elsewhere (plan on adopted specs)


def _editor_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _check_locations(stderr: str, workdir: Path, command: str) -> list[str]:
    """Every error line located, in a file that exists, at a line and column that exist."""
    problems = []
    lines = [line for line in stderr.splitlines() if line and not line.startswith(INFO) and not OK_LINE.match(line)]
    for line in lines:
        m = LOCATION.match(line)
        if m is None:
            problems.append(f"{command}: unlocated message: {line[:160]}")
            continue
        file, row, col = m.group(1), int(m.group(2)), int(m.group(3))
        path = workdir / file
        if not path.is_file():
            problems.append(f"{command}: message names a missing file: {line[:160]}")
            continue
        try:
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        rows = _editor_lines(text)
        if row < 1 or row > len(rows) or col < 1 or col > len(rows[row - 1]) + 1:
            problems.append(f"{command}: message points past the file ({len(rows)} lines): {line[:160]}")
    return problems


def _crash_site(runner: Any, main: Any, args: list[str]) -> str:
    """Where an exit-70 crash happened (file:function of the innermost mlmon frame)."""
    import traceback

    result = runner.invoke(main, ["--debug", *args], catch_exceptions=True)
    if result.exception is None or result.exc_info is None:
        return "?"
    frames = [f for f in traceback.extract_tb(result.exc_info[2]) if "mlmon_cli" in f.filename]
    if not frames:
        return f"? {type(result.exception).__name__}"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.name} {type(result.exception).__name__}"


def user_entries_changed(before: Any, after: Any) -> list[str]:
    """User entries (Resources, Parameters, Conditions, Outputs) the output does not keep exactly."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    changed = []
    for section in USER_SECTIONS:
        mine = before.get(section)
        if not isinstance(mine, dict):
            if mine is not None and after.get(section) != mine:
                changed.append(section)
            continue
        theirs = after.get(section) if isinstance(after.get(section), dict) else {}
        changed.extend(f"{section}.{k}" for k, v in mine.items() if k not in theirs or theirs[k] != v)
    return changed


def run_one(text: str, ext: str, workdir: Path) -> Outcome:
    """Run init, validate, generate and plan on one template in `workdir` (cwd for the run)."""
    from click.testing import CliRunner

    from mlmon_cli.cli import main

    template = f"template.{ext}"
    (workdir / template).write_bytes(text.encode("utf-8", "surrogateescape"))
    runner = CliRunner()
    outcome = Outcome()
    here = os.getcwd()
    os.chdir(workdir)
    try:
        commands = [("init", ["init", "--from-template", template, "-o", "spec.yaml"]),
                    ("validate", ["validate", "spec.yaml"]), ("generate", ["generate", "spec.yaml", "-o", "out.yaml"]),
                    ("plan", ["plan", "spec.yaml"])]
        for command, args in commands:
            if command != "init" and outcome.exits.get("init") != 0:
                break
            started, cpu = time.perf_counter(), time.process_time()
            try:
                with time_limit(TIME_LIMIT * 3):  # a hang (wall clock); the limit itself is on CPU time, below
                    result = runner.invoke(main, args, catch_exceptions=True)
            except Timeout:
                outcome.problems.append(f"{command}: timeout")
                outcome.exits[command] = -1
                continue
            # CPU seconds: on a shared machine the wall clock measures the neighbours (wall time in `wall`)
            outcome.seconds[command] = time.process_time() - cpu
            outcome.wall[command] = time.perf_counter() - started
            outcome.exits[command] = result.exit_code
            if isinstance(result.exception, Timeout):
                outcome.problems.append(f"{command}: timeout")
            if outcome.seconds[command] > TIME_LIMIT:
                outcome.problems.append(f"{command}: slow ({outcome.seconds[command]:.1f} s CPU)")
            if result.exit_code == 70:
                site = _crash_site(runner, main, args)
                if command == "plan":  # plan on adopted specs reads the user's resources as mlmon's: issue 19
                    outcome.known.append(f"plan exit 70 (issue 19) at {site}")
                else:
                    outcome.problems.append(f"{command}: exit 70 at {site}")
            elif result.exit_code not in ((0, 1) if command == "init" else (0, 1, 4)):
                outcome.problems.append(f"{command}: exit {result.exit_code}")
            if result.exit_code not in (0, 4, 70):  # exit 4: a limit of the whole output, not a place in a file
                outcome.messages += f"[{command}] " + result.stderr[-600:]
                outcome.problems.extend(_check_locations(result.stderr, workdir, command))
            if command == "validate" and result.exit_code == 1 and "list at least one component" not in result.stderr:
                outcome.problems.append("init wrote a spec validate rejects")
    finally:
        os.chdir(here)
    val, gen = outcome.exits.get("validate"), outcome.exits.get("generate")
    if val is not None and gen is not None and val in (0, 1, 4) and gen in (0, 1, 4) and (val == 1) != (gen == 1):
        outcome.problems.append(f"validate/generate disagree ({val}, {gen})")
    if gen == 0 and (workdir / "out.yaml").is_file():
        outcome.output = (workdir / "out.yaml").read_text(encoding="utf-8")
        changed = user_entries_changed(parse(text), parse(outcome.output))
        if changed:
            outcome.problems.append(f"changed user entries: {changed[:4]}")
    return outcome


# --- lint in one batch ------------------------------------------------------------------------

def _errors(job: tuple[str, str]) -> tuple[str, list[tuple[int, str]], str | None]:
    """(name, error findings as (line, 'rule: message' with numbers masked), crash) for one template."""
    from mlmon_cli.lint import lint_template

    try:
        findings = lint_template(job[1], job[0])
    except Exception as exc:  # noqa: BLE001 - a crash of `mlmon lint` is a finding of the fuzzer
        return job[0], [], f"{type(exc).__name__}: {exc}"[:200]
    rows = _editor_lines(job[1])
    bad = [(f.line, f"location past the file: {f}") for f in findings if f.line < 1 or f.line > len(rows)]
    return job[0], [(f.line, f"{f.rule}: {_masked(f.message)}") for f in findings if f.is_error] + bad, None


def _masked(message: str) -> str:
    """A finding's message comparable between input and output: numbers masked, and the list of valid
    names in "'X' is not one of [...]" (E1010, E1020, E3005...) elided, since mlmon's added resources
    lengthen that list without making the user's reference to a missing X any newer."""
    return re.sub(r"is not one of \[.*\]", "is not one of [...]", re.sub(r"[0-9]+", "N", message))


_SECTION = re.compile(r"^([A-Za-z]+):")
_ENTRY = re.compile(r"""^  ('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^\s'"][^:]*):""")


def entry_of_lines(text: str) -> list[tuple[str, str | None] | None]:
    """For each line of a YAML output (mlmon's writer: two-space indents), the top-level entry
    (section, key) it is part of; (section, None) on a section's own line; None outside sections."""
    import yaml

    out: list[tuple[str, str | None] | None] = []
    section: str | None = None
    key: str | None = None
    for line in text.split("\n"):
        top = _SECTION.match(line)
        if top:
            section, key = top.group(1), None
        elif section is not None:
            entry = _ENTRY.match(line)
            if entry:
                try:
                    key = str(yaml.safe_load(entry.group(1)))
                except yaml.YAMLError:
                    key = entry.group(1)
        out.append((section, key) if section is not None else None)
    return out


def mlmon_errors(output: str, errors: list[tuple[int, str]], before: Any) -> list[str]:
    """Errors in what mlmon added (its entries, or template-wide): those inside the user's own
    entries are the user's (the entries are compared apart, `user_entries_changed`)."""
    lines = entry_of_lines(output)
    found = []
    for line, error in errors:
        where = lines[line - 1] if 0 < line <= len(lines) else None
        if where is not None and where[1] is not None:
            theirs = before.get(where[0]) if isinstance(before, dict) else None
            if isinstance(theirs, dict) and where[1] in theirs:
                continue
        found.append(error)
    return sorted(set(found))


def lint_batch(jobs: list[tuple[str, str]]) -> dict[str, tuple[list[tuple[int, str]], str | None]]:
    """Lint many templates at once, one process per core."""
    import multiprocessing

    out: dict[str, tuple[list[tuple[int, str]], str | None]] = {}
    if not jobs:
        return out
    _errors(("warm-up.yaml", "Resources: {T: {Type: AWS::SNS::Topic}}\n"))  # rules load once, before the fork
    # fresh workers now and then: cfn-lint keeps per-template caches (GBs over hundreds of templates)
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1, maxtasksperchild=20) as pool:
        for name, errors, crash in pool.imap_unordered(_errors, jobs, chunksize=1):
            out[name] = (errors, crash)
    return out


def _mlmon_names(base: list[tuple[str, str]]) -> dict[str, Any]:
    """mlmon's own logical IDs and outputs for the unmutated seeds (collision material)."""
    import tempfile

    ids: set[str] = set()
    outputs: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, text) in enumerate(base[:8]):
            work = Path(tmp) / str(n)
            work.mkdir()
            outcome = run_one(text, "json" if name.endswith(".json") else "yaml", work)
            before, after = parse(text), parse(outcome.output or "")
            if isinstance(before, dict) and isinstance(after, dict):
                ids |= set(after.get("Resources", {})) - set(before.get("Resources") or {})
                outputs |= set(after.get("Outputs") or {}) - set(before.get("Outputs") or {})
    return {"mlmon_ids": sorted(ids), "mlmon_outputs": sorted(outputs)}


def run(count: int, seed: int, lint: bool = True, corpus: Path = CORPUS, show: bool = False,
        only: set[int] | None = None) -> dict[str, Any]:
    """Run `count` cases; return the figures (and print them)."""
    import tempfile

    base = seeds(corpus)
    if not base:
        raise SystemExit(f"no templates in {corpus}")
    rng = Random(seed)
    ctx = _mlmon_names(base)
    counts: Counter[str] = Counter()
    failures: list[tuple[int, str, list[str], list[str], str]] = []
    cases: dict[int, tuple[str, str, str, list[str]]] = {}
    outputs: dict[int, str] = {}
    slowest, slowest_wall = (0.0, ""), 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(count):
            name, text = base[n % len(base)]
            mutated, ext, ops = mutate(name, text, rng, ctx)
            if only is not None and n not in only:
                continue
            cases[n] = (name, mutated, ext, ops)
            work = Path(tmp) / str(n)
            work.mkdir()
            outcome = run_one(mutated, ext, work)
            for command, code in outcome.exits.items():
                counts[f"{command} exit {code}"] += 1
            slowest_wall = max([slowest_wall, *outcome.wall.values()])
            for command, seconds in outcome.seconds.items():
                if seconds > slowest[0]:
                    slowest = (seconds, f"{command} case {n}")
            for known in outcome.known:
                counts["plan exit 70 (issue 19)"] += 1
                counts[known] += 1
            for problem in outcome.problems:
                counts[_klass(problem)] += 1
            if outcome.problems:
                failures.append((n, name, ops, outcome.problems, outcome.messages))
            if outcome.output is not None:
                outputs[n] = outcome.output
            for child in sorted(work.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            work.rmdir()
    run_seconds = time.perf_counter() - started
    for n, name, ops, problems, messages in failures[:40]:
        print(f"\n--- case {n} {name} {ops}: {problems[:3]}")
        if show:
            print(messages[-800:])
    print(f"\ncommands run in {run_seconds:.0f} s; linting {len(set(outputs.values()))} distinct outputs", flush=True)
    lint_new: list[tuple[int, list[str]]] = []
    lint_crashes: list[tuple[int, str]] = []
    if lint and outputs:
        distinct: dict[str, int] = {}
        for n, text in outputs.items():
            distinct.setdefault(text, n)
        linted = lint_batch([(f"out-{n}.yaml", t) for t, n in distinct.items()])
        suspects: dict[int, list[str]] = {}
        for n, text in outputs.items():
            errors, crash = linted[f"out-{distinct[text]}.yaml"]
            if crash:
                lint_crashes.append((n, crash))
            mine = mlmon_errors(text, errors, parse(cases[n][1]))
            if mine:
                suspects[n] = mine
        # only those need their input linted: an error the input has too is not mlmon's
        inputs = lint_batch([(f"in-{n}.{cases[n][2]}", cases[n][1]) for n in suspects])
        for n, mine in suspects.items():
            before = {e for _, e in inputs[f"in-{n}.{cases[n][2]}"][0]}
            new = [e for e in mine if e not in before]
            if new:
                lint_new.append((n, new))
    figures = {
        "cases": len(cases), "seed": seed, "seeds": len(base),
        "exit 70 (outside the known plan crash)": counts["exit 70"],
        "plan exit 70 known (issue 19)": counts["plan exit 70 (issue 19)"],
        "  at": {k.split(" at ", 1)[1]: v for k, v in counts.items() if k.startswith("plan exit 70 (issue 19) at")},
        "runs over 10 s": counts["timeout"] + counts["slow"],
        "slowest (CPU)": f"{slowest[0]:.2f} s ({slowest[1]})",
        "slowest (wall clock)": f"{slowest_wall:.2f} s",
        "outputs with new cfn-lint errors": len(lint_new) if lint else "not linted",
        "lint crashes": len(lint_crashes) if lint else "not linted",
        "changed user entries": counts["changed user entries"],
        "messages pointing at missing lines or files": counts["points past"] + counts["missing file"],
        "unlocated messages": counts["unlocated"],
        "init specs validate rejects": counts["init wrote a spec validate rejects"],
        "validate/generate disagree": counts["validate/generate disagree"],
        "other exit codes": counts["other exit"],
        "outputs written": len(outputs),
        "commands": {k: v for k, v in sorted(counts.items()) if " exit " in k and "(issue 19)" not in k},
        "run time (s)": round(run_seconds), "total time (s)": round(time.perf_counter() - started),
    }
    print()
    for key, value in figures.items():
        print(f"{key + ':':48} {value}")
    for n, new in lint_new[:25]:
        print(f"\n--- lint case {n} {cases[n][0]} {cases[n][3]}: {new[:3]}")
    for n, crash in lint_crashes[:10]:
        print(f"\n--- lint crash case {n} {cases[n][0]}: {crash}")
    figures["failures"] = failures
    figures["lint_new"] = lint_new
    return figures


def _klass(problem: str) -> str:
    if "exit 70" in problem:
        return "exit 70"
    for key in ("timeout", "slow", "points past", "missing file", "unlocated", "init wrote a spec validate rejects",
                "validate/generate disagree", "changed user entries"):
        if key in problem:
            return key
    return "other exit" if "exit" in problem else problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show", action="store_true", help="print each failing case's messages")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint of the outputs")
    parser.add_argument("--case", type=int, action="append", help="run only this case number (repeatable)")
    args = parser.parse_args(argv)
    figures = run(args.count, args.seed, not args.no_lint, args.corpus, args.show, set(args.case) if args.case else None)
    return 1 if figures["failures"] or figures["lint_new"] else 0


if __name__ == "__main__":
    sys.exit(main())
