"""Write proposed thresholds into the spec's text, keeping its comments and layout.

The spec is re-read with PyYAML's pure-Python composer (its marks count characters) and each
change is a text edit at a node's mark: an existing `threshold:` value is replaced; a missing
one is added to the alarm's mapping, a missing alarm to `alarms:`, a missing `alarms:` to the
component, each in the style (block or flow) of the mapping it goes into.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import yaml

Edit = tuple[int, int, str]  # (start offset, end offset, replacement)


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def patched(text: str, changes: dict[int, dict[str, float]], environment: str | None = None) -> str:
    """`text` with `components[i].alarms.<key>.threshold` set to each value (spec units); with
    `environment`, as that environment's override `environments.<env>.components.<name>.alarms.<key>.threshold`
    (added where missing), so the base spec and the other environments keep theirs."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    components = _get(root, "components") if root is not None else None
    if not isinstance(components, yaml.SequenceNode):
        raise TypeError("the spec has no components list")
    edits: list[Edit] = []
    if environment is None:
        for index, keys in sorted(changes.items()):
            edits += _threshold_edits(text, components.value[index], keys)
    else:
        env = _get(_get(root, "environments"), environment)
        if not isinstance(env, yaml.MappingNode):
            raise TypeError(f"the spec has no environment {environment}")
        overrides = _get(env, "components")
        missing: dict[str, str] = {}
        for index, keys in sorted(changes.items()):
            name = _get(components.value[index], "name")
            assert isinstance(name, yaml.ScalarNode)
            node = _get(overrides, name.value) if overrides is not None else None
            if isinstance(node, yaml.MappingNode):
                edits += _threshold_edits(text, node, keys)
            else:
                missing[name.value] = _flow({"alarms": _flow({k: f"{{threshold: {number(v)}}}" for k, v in keys.items()})})
        if missing and isinstance(overrides, yaml.MappingNode):
            edits.append(_add(text, overrides, missing))
        elif missing:
            edits.append(_add(text, env, {"components": _flow(missing)}))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _threshold_edits(text: str, comp: yaml.Node, keys: dict[str, float]) -> list[Edit]:
    """Edits setting `alarms.<key>.threshold` of one component (or one environment's override of it)."""
    alarms = _get(comp, "alarms")
    if not isinstance(alarms, yaml.MappingNode):
        entries = {k: f"{{threshold: {number(v)}}}" for k, v in keys.items()}
        return [_add(text, comp, {"alarms": entries})]  # type: ignore[arg-type]
    edits: list[Edit] = []
    missing: dict[str, str] = {}
    for key, value in keys.items():
        alarm = _get(alarms, key)
        if not isinstance(alarm, yaml.MappingNode):
            missing[key] = f"{{threshold: {number(value)}}}"
            continue
        threshold = _get(alarm, "threshold")
        if threshold is not None:
            edits.append((threshold.start_mark.index, threshold.end_mark.index, number(value)))
        else:
            edits.append(_add(text, alarm, {"threshold": number(value)}))
    if missing:
        edits.append(_add(text, alarms, missing))
    return edits


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _add(text: str, mapping: yaml.MappingNode, entries: Mapping[str, object]) -> Edit:
    """An edit adding `entries` (key -> value text, or a dict of them) at the end of `mapping`."""
    if mapping.flow_style or not mapping.value:
        inner = ", ".join(f"{k}: {_flow(v)}" for k, v in entries.items())
        if mapping.value:
            at = mapping.value[-1][1].end_mark.index
            return at, at, f", {inner}"
        at = mapping.start_mark.index + 1
        return at, at, inner
    column = mapping.value[0][0].start_mark.column
    lines = []
    for key, value in entries.items():
        if isinstance(value, dict):
            lines.append(" " * column + f"{key}:")
            lines += [" " * (column + 2) + f"{k}: {v}" for k, v in value.items()]
        else:
            lines.append(" " * column + f"{key}: {value}")
    end = _last_end(mapping)
    if end > 0 and text[end - 1] == "\n":
        at = end
    else:
        newline = text.find("\n", end)
        at = len(text) if newline < 0 else newline + 1
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return at, at, prefix + "\n".join(lines) + "\n"


def _flow(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def _last_end(node: yaml.Node) -> int:
    """Where the last value of a block collection ends in the text."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node.end_mark.index
