"""Property-level diff of a change set, for `mlmon deploy --no-execute`.

CloudFormation can say what changes inside each modified resource: `DescribeChangeSet` with
`IncludePropertyValues=True` returns, per `ResourceChangeDetail.Target`, the property `Path` with
`BeforeValue` and `AfterValue`, or the whole resource as `BeforeContext`/`AfterContext` JSON
(LocalStack 4.14). Where it gives neither, the diff is computed from the deployed template
(`GetTemplate`, stage Original) and the new one, property by property. Pure functions except `template_of`.
"""

from __future__ import annotations

import json
from typing import Any, cast

import yaml

from .session import aws_errors

MAX_VALUE = 160  # characters of a value shown on one line


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def property_changes(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, before, after) of every leaf that differs; a missing side is None. Paths like
    `Properties.Dimensions[0].Value`; lists of different lengths are compared whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append((sub, None, new[key]))
            elif key not in new:
                out.append((sub, old[key], None))
            else:
                out += property_changes(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [c for i, (a, b) in enumerate(zip(old, new, strict=True)) for c in property_changes(a, b, f"{path}[{i}]")]
    return [] if old == new else [(path, old, new)]


def format_changes(changes: list[tuple[str, Any, Any]], indent: str = "      ") -> list[str]:
    lines = []
    for path, before, after in changes:
        if before is None:
            lines.append(f"{indent}+ {path}: {_show(after)}")
        elif after is None:
            lines.append(f"{indent}- {path}: {_show(before)}")
        else:
            lines.append(f"{indent}~ {path}: " + " -> ".join(_show_pair(before, after)))
    return lines


CONTEXT = 40  # characters shown before the first difference of two long values


def _show_pair(before: Any, after: Any) -> tuple[str, str]:
    """Both sides of a change; long values are shown from just before where they first differ
    (two truncated prefixes of one long description used to look identical)."""
    old, new = (_full(v) for v in (before, after))
    if len(old) <= MAX_VALUE and len(new) <= MAX_VALUE:
        return old, new
    same = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    start = max(0, same - CONTEXT)

    def window(text: str) -> str:
        part = text[start:start + MAX_VALUE - 6]
        return ("..." if start else "") + part + ("..." if start + len(part) < len(text) else "")

    return window(old), window(new)


def _full(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text.replace("\n", "\\n")


def from_details(change: dict[str, Any]) -> list[tuple[str, Any, Any]] | None:
    """The property changes CloudFormation itself reported (IncludePropertyValues), or None when it gave no values."""
    out = []
    for detail in change.get("Details") or []:
        target = detail.get("Target") or {}
        if "BeforeValue" not in target and "AfterValue" not in target:
            return None
        where = target.get("Path") or f"/{target.get('Attribute', '?')}/{target.get('Name', '?')}"
        path = ".".join(p for p in str(where).split("/") if p)
        out.append((path, _parse(target.get("BeforeValue")), _parse(target.get("AfterValue"))))
    return out or None


def _contexts(change: dict[str, Any]) -> tuple[Any, Any] | None:
    """The resource before and after, from `BeforeContext`/`AfterContext` (JSON strings some
    endpoints return with IncludePropertyValues instead of per-detail values, LocalStack 4.14 among them)."""
    if not change.get("BeforeContext") or not change.get("AfterContext"):
        return None
    try:
        return json.loads(change["BeforeContext"]), json.loads(change["AfterContext"])
    except (TypeError, ValueError):
        return None


def _parse(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def resource_diff(change: dict[str, Any], old_template: dict[str, Any] | None, new_template: dict[str, Any]) -> list[str]:
    """Lines under one Modify change: CloudFormation's values when given, else the templates compared."""
    reported = from_details(change)
    if reported is not None:
        return format_changes(reported)
    contexts = _contexts(change)
    if contexts is not None:
        return format_changes(property_changes(*contexts))
    logical = change.get("LogicalResourceId", "")
    before = ((old_template or {}).get("Resources") or {}).get(logical)
    after = (new_template.get("Resources") or {}).get(logical)
    if before is None or after is None:
        return []
    keep = ("Properties", "Metadata", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy")
    return format_changes(property_changes({k: before.get(k) for k in keep if k in before},
                                           {k: after.get(k) for k in keep if k in after}))


def drift_lines(change: dict[str, Any], indent: str = "      ") -> list[str]:
    """What a drift-aware change set (`--revert-drift`) says drifted in one resource: its
    `ResourceDriftStatus` and, per property, the template's value against the live one
    (`Target.Drift.PreviousValue` / `ActualValue`), which the change set puts back."""
    status = change.get("ResourceDriftStatus")
    drifted = any((d.get("Target") or {}).get("Drift") for d in change.get("Details") or [])
    if not drifted and status in (None, "IN_SYNC"):
        return []
    lines = [f"{indent}drift: {status or 'MODIFIED'}" + (" (deleted outside CloudFormation: recreated)" if status == "DELETED" else "")]
    for detail in change.get("Details") or []:
        target = detail.get("Target") or {}
        drift = target.get("Drift")
        if not drift:
            continue
        where = target.get("Path") or target.get("Name") or "?"
        path = ".".join(p for p in str(where).split("/") if p)
        lines.append(f"{indent}! {path}: live {_show(_parse(drift.get('ActualValue')))} -> "
                     f"{_show(_parse(drift.get('PreviousValue')))} (reverted to the template)")
    return lines


def template_of(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The deployed template of `stack` as a dict (YAML or JSON body), None when it cannot be read."""
    with aws_errors(f"get the deployed template of stack {stack}"):
        body = cfn.get_template(StackName=stack, TemplateStage="Original").get("TemplateBody")
    if isinstance(body, dict):
        return body
    try:
        return yaml.load(body or "", Loader=_CfnLoader)
    except yaml.YAMLError:
        return None


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads short-form intrinsics (`!Ref X`) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)
