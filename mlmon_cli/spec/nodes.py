"""Read YAML into a node tree that keeps line/column marks, refusing duplicate keys.

PyYAML's `compose` keeps a `start_mark` on every node, which is what lets every later problem
point at `file:line:col`. PyYAML silently keeps the last of two equal keys, so we check that
ourselves (as cfn-lint does). We never touch PyYAML's global loaders.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import Location, Problem, SpecError


FILE = "(file)"


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml keeps the same marks, ~5x faster


class _SpecLoader(_Base):  # type: ignore[misc, valid-type]
    """A private SafeLoader subclass so nothing we do leaks into other users of PyYAML."""


def node_location(node: yaml.Node, file: str, path: str) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1, path)


def read_text(path: Path, display: str) -> str:
    """Read a user file as UTF-8 text. Raises SpecError for missing, binary or undecodable files."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(Location(display, 1, 1, FILE), "file not found")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(Location(display, 1, 1, FILE), "is a directory, expected a YAML file")]) from None
    except OSError as exc:
        raise SpecError([Problem(Location(display, 1, 1, FILE), f"cannot read file: {exc.strerror}")]) from None
    if b"\x00" in data:
        raise SpecError([Problem(Location(display, 1, 1, FILE), "binary file, expected a YAML text file")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError([Problem(Location(display, line, 1, FILE), "file is not valid UTF-8 text")]) from None


def compose(text: str, file: str) -> yaml.Node:
    """Parse YAML text into a node tree. Raises SpecError for syntax errors, empty input or duplicate keys."""
    try:
        root = yaml.compose(text, Loader=_SpecLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if mark and text.splitlines()[mark.line:mark.line + 1] and "\t" in text.splitlines()[mark.line][: mark.column + 1]:
            message += " (a tab: YAML indents with spaces only)"
        raise SpecError([Problem(Location(file, line, col, FILE), message)]) from None
    except yaml.YAMLError as exc:  # non-marked errors (e.g. reader errors on odd characters)
        raise SpecError([Problem(Location(file, 1, 1, FILE), f"YAML error: {exc}")]) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
        raise SpecError([Problem(Location(file, 1, 1, FILE), "file is empty, expected a spec mapping")])
    problems: list[Problem] = []
    _check_duplicates(root, file, "", problems)
    if problems:
        raise SpecError(problems)
    return root


def _check_duplicates(node: yaml.Node, file: str, path: str, problems: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            child = f"{path}.{name}" if path else name
            if name in seen:
                first = seen[name].start_mark.line + 1
                problems.append(Problem(node_location(key, file, child), f"duplicate key '{name}' (first defined on line {first})"))
            else:
                seen[name] = key
            _check_duplicates(value, file, child, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicates(item, file, f"{path}[{index}]", problems)
