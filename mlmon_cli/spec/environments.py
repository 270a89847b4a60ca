"""Per-environment overrides: one spec, `--env prod`, and dev stages that page nobody.

A spec may carry `environments: {<name>: <overlay>}`. An overlay may override `notifications`,
`defaults`, `description` and, under `components: {<component name>: {...}}`, anything of a
component (thresholds, severities, `enabled: false` for a whole component or one alarm).
Overlays are merged into the YAML node tree *before* validation, so every problem in an
overlay is reported at its own line in the file.
"""

from __future__ import annotations

import difflib

import yaml

from ..errors import Problem, SpecError
from .nodes import node_location

OVERLAY_KEYS = ("description", "notifications", "defaults", "components", "name_suffix", "organization")


def environment_names(root: yaml.Node) -> list[str]:
    node = _value(root, "environments")
    return [str(k.value) for k, _ in node.value] if isinstance(node, yaml.MappingNode) else []


def apply_environment(root: yaml.Node, env: str | None, file: str) -> yaml.Node:
    """Return the tree without `environments`, with the chosen overlay merged in.

    Raises SpecError for an unknown environment, a malformed overlay, or a component name that
    is not in the spec. Every overlay's shape is checked, chosen or not, so a typo in the prod
    overlay fails the dev build too.
    """
    if not isinstance(root, yaml.MappingNode):
        return root
    envs = _value(root, "environments")
    base = yaml.MappingNode(root.tag, [(k, v) for k, v in root.value if k.value != "environments"],
                            start_mark=root.start_mark, end_mark=root.end_mark)
    problems: list[Problem] = []
    overlays: dict[str, yaml.Node] = {}
    if envs is not None:
        if not isinstance(envs, yaml.MappingNode):
            raise SpecError([Problem(node_location(envs, file, "environments"), "expected a mapping of environment names to overrides")])
        for key, overlay in envs.value:
            overlays[str(key.value)] = overlay
            _check_overlay(base, overlay, f"environments.{key.value}", file, problems)
    if env is not None and env not in overlays:
        known = ", ".join(overlays) or "none defined"
        close = difflib.get_close_matches(env, list(overlays), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        at = envs if envs is not None else root
        problems.append(Problem(node_location(at, file, "environments"), f"unknown environment '{env}'{hint}; known: {known}"))
    if problems:
        raise SpecError(problems)
    return _merge(base, overlays[env]) if env is not None else base


def _value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def _components_by_name(base: yaml.Node) -> dict[str, yaml.Node]:
    components = _value(base, "components")
    if not isinstance(components, yaml.SequenceNode):
        return {}
    named = {}
    for item in components.value:
        name = _value(item, "name")
        if isinstance(name, yaml.ScalarNode):
            named[name.value] = item
    return named


def _check_overlay(base: yaml.Node, overlay: yaml.Node, path: str, file: str, problems: list[Problem]) -> None:
    if not isinstance(overlay, yaml.MappingNode):
        problems.append(Problem(node_location(overlay, file, path), "expected a mapping of overrides"))
        return
    for key, value in overlay.value:
        if key.value not in OVERLAY_KEYS:
            close = difflib.get_close_matches(str(key.value), OVERLAY_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(node_location(key, file, f"{path}.{key.value}"),
                                    f"unknown key '{key.value}'{hint}; an environment may override {', '.join(OVERLAY_KEYS)}"))
        elif key.value == "components":
            _check_component_overlays(base, value, f"{path}.components", file, problems)


def _check_component_overlays(base: yaml.Node, node: yaml.Node, path: str, file: str, problems: list[Problem]) -> None:
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(node_location(node, file, path), "expected a mapping of component names to overrides"))
        return
    named = _components_by_name(base)
    for key, value in node.value:
        if key.value not in named:
            close = difflib.get_close_matches(str(key.value), list(named), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(node_location(key, file, f"{path}.{key.value}"), f"no component named '{key.value}'{hint}"))
        elif not isinstance(value, yaml.MappingNode):
            problems.append(Problem(node_location(value, file, f"{path}.{key.value}"), "expected a mapping of overrides"))
        elif _value(value, "kind") is not None or _value(value, "name") is not None:
            problems.append(Problem(node_location(value, file, f"{path}.{key.value}"), "an environment cannot change a component's kind or name"))


def _merge(base: yaml.Node, overlay: yaml.Node) -> yaml.Node:
    """Deep-merge mapping nodes: overlay values win; lists and scalars are replaced whole."""
    if not (isinstance(base, yaml.MappingNode) and isinstance(overlay, yaml.MappingNode)):
        return overlay
    pairs = list(base.value)
    for key, value in overlay.value:
        if key.value == "components" and isinstance(_value(base, "components"), yaml.SequenceNode):
            pairs = [(k, _merge_components(v, value) if k.value == "components" else v) for k, v in pairs]
            continue
        index = next((i for i, (k, _) in enumerate(pairs) if k.value == key.value), None)
        if index is None:
            pairs.append((key, value))
        else:
            pairs[index] = (pairs[index][0], _merge(pairs[index][1], value))
    return yaml.MappingNode(base.tag, pairs, start_mark=base.start_mark, end_mark=base.end_mark)


def _merge_components(components: yaml.SequenceNode, overlays: yaml.MappingNode) -> yaml.SequenceNode:
    by_name = {str(k.value): v for k, v in overlays.value}
    items = []
    for item in components.value:
        name = _value(item, "name")
        overlay = by_name.get(name.value) if isinstance(name, yaml.ScalarNode) else None
        items.append(_merge(item, overlay) if overlay is not None else item)
    return yaml.SequenceNode(components.tag, items, start_mark=components.start_mark, end_mark=components.end_mark)
