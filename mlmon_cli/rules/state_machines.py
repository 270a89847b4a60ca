"""Find every Step Functions definition a template holds, in each style real templates use.

- `AWS::StepFunctions::StateMachine` `Definition` (a mapping: findings point at the state itself)
- `DefinitionString` as a plain string, `Fn::Sub` (string or `[string, variables]`) or `Fn::Join`
  (what SAM's transform and CDK emit); intrinsic parts of a join become `${...}` placeholders
- `AWS::Serverless::StateMachine` (SAM) `Definition` and `DefinitionUri` to a local file
  (relative to the template's directory; `s3://` and `{Bucket, Key}` locations are not read)

`${...}` placeholders outside JSON strings (`"TimeoutSeconds": ${Timeout}`) are quoted before
parsing, so they read as the dynamic values the ASL checker already skips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..asl import AslLoadError, load_asl
from .base import TemplateContext

STATE_MACHINE_TYPES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")
INTRINSIC = "${Intrinsic}"


@dataclass(frozen=True)
class StateMachine:
    """One definition: `key_path` is the template key it came from; `mapped` when the definition's
    own paths exist in the template under `key_path` (the `Definition` mapping style)."""

    resource: str
    style: str
    key_path: tuple[Any, ...]
    definition: dict[str, Any] | None
    problem: str | None = None
    mapped: bool = False
    file: str | None = None  # the local file a DefinitionUri names


def state_machines(ctx: TemplateContext) -> list[StateMachine]:
    """Every state machine definition of the template, in resource order (parsed once per template)."""
    if "state_machines" not in ctx.cache:
        ctx.cache["state_machines"] = find_state_machines(ctx)
    return ctx.cache["state_machines"]


def find_state_machines(ctx: TemplateContext) -> list[StateMachine]:
    """Every state machine definition of the template, in resource order."""
    found: list[StateMachine] = []
    for name, resource in ctx.resources():
        if resource.get("Type") not in STATE_MACHINE_TYPES:
            continue
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        base = ("Resources", name, "Properties")
        if isinstance(props.get("Definition"), dict):
            found.append(StateMachine(name, "Definition", (*base, "Definition"), props["Definition"], mapped=True))
        if "DefinitionString" in props:
            text = definition_text(props["DefinitionString"])
            if text is not None:
                found.append(_parsed(name, "DefinitionString", (*base, "DefinitionString"), text, "definition.json"))
        uri = props.get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(uri, str) and "://" not in uri and ctx.base_dir:
            found.append(_from_file(name, (*base, "DefinitionUri"), ctx.base_dir / uri, uri))
    return found


def definition_text(value: Any) -> str | None:
    """The JSON text of a DefinitionString (plain, Fn::Sub or Fn::Join); None when only known at deploy time."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Sub":
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                return arg[0]
            return arg if isinstance(arg, str) else None
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], list):
            return arg[0].join(_join_part(p) for p in arg[1])
    return None


def _join_part(part: Any) -> str:
    if isinstance(part, str):
        return part
    text = definition_text(part) if isinstance(part, dict) and "Fn::Sub" in part else None
    return text if text is not None else INTRINSIC


def quote_placeholders(text: str) -> str:
    """Wrap `${...}` found outside JSON strings in quotes; text inside strings is left alone."""
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\" and i + 1 < n:
                out.append(text[i:i + 2])
                i += 2
                continue
            in_string = c != '"'
        elif c == '"':
            in_string = True
        elif text.startswith("${", i) and (end := text.find("}", i)) != -1:
            out.append(json.dumps(text[i:end + 1]))
            i = end + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parsed(name: str, style: str, key_path: tuple[Any, ...], text: str, filename: str) -> StateMachine:
    try:
        definition = load_asl(quote_placeholders(text) if filename.endswith(".json") else text, filename)
    except AslLoadError as exc:
        return StateMachine(name, style, key_path, None, problem=f"cannot parse the definition ({exc})")
    return StateMachine(name, style, key_path, definition)


def _from_file(name: str, key_path: tuple[Any, ...], path: Path, shown: str) -> StateMachine:
    style = f"DefinitionUri({shown})"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return StateMachine(name, style, key_path, None, problem=f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}")
    machine = _parsed(name, style, key_path, text, path.name)
    return StateMachine(machine.resource, style, key_path, machine.definition, machine.problem, file=str(path))
