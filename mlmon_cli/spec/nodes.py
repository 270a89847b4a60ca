"""Read YAML into a node tree that keeps line/column marks, refusing duplicate keys.

PyYAML's `compose` keeps a `start_mark` on every node, which is what lets every later problem
point at `file:line:col`. PyYAML silently keeps the last of two equal keys, so we check that
ourselves (as cfn-lint does). We never touch PyYAML's global loaders.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .. import limits
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
    """Parse YAML text into a node tree. Raises SpecError for syntax errors, empty input, duplicate
    keys, unsupported tags, recursive aliases and input past the size, depth or alias-expansion bounds.

    Merge keys (`<<: *base`) are applied here, so later stages see plain mappings.
    """
    if len(text) > limits.MAX_SPEC_BYTES:
        raise SpecError([Problem(Location(file, 1, 1, FILE),
                                 f"the file has {len(text)} characters; a spec may have at most {limits.MAX_SPEC_BYTES}")])
    try:
        root = yaml.compose(text, Loader=_SpecLoader)  # libyaml stops at 1,000 levels; _Walk at MAX_NESTING_DEPTH
    except yaml.MarkedYAMLError as exc:
        raise SpecError([yaml_problem(exc, text, file)]) from None
    except yaml.reader.ReaderError as exc:
        raise SpecError([reader_problem(exc, text, file)]) from None
    except RecursionError:  # the pure-Python composer (no libyaml) recurses per level
        raise SpecError([Problem(Location(file, 1, 1, FILE), f"nested more than {limits.MAX_NESTING_DEPTH} levels deep")]) from None
    except yaml.YAMLError as exc:  # any other PyYAML error: still one located line
        raise SpecError([Problem(Location(file, 1, 1, FILE), f"YAML error: {exc}")]) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
        raise SpecError([Problem(Location(file, 1, 1, FILE), "file is empty, expected a spec mapping")])
    problems: list[Problem] = []
    _Walk(file, problems).node(root, "", 0)
    if problems:
        raise SpecError(problems)
    return root


def yaml_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    """A PyYAML syntax error as one located problem (at the problem's mark, else its context's)."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context}"
    lines = text.splitlines()
    if mark and lines[mark.line:mark.line + 1] and "\t" in lines[mark.line][: mark.column + 1]:
        message += " (a tab: YAML indents with spaces only)"
    return Problem(Location(file, line, col, FILE), message)


def reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML does not allow, at its real position."""
    position = exc.position if isinstance(exc.position, int) and 0 <= exc.position <= len(text) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character) if isinstance(exc.character, int) else "?"
    return Problem(Location(file, line, column, FILE),
                   f"YAML does not allow the character U+{ord(char):04X} here (a control character); remove it")


_CORE_NAMES = {"tag:yaml.org,2002:" + t: "!!" + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


class _Walk:
    """One pass over the composed tree: merge keys, tags, keys, duplicates, recursion, expansion."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file, self.problems = file, problems
        self.constructor = yaml.constructor.SafeConstructor()  # per walk: its cache dies with it
        self.active: set[int] = set()
        # Each node is checked once, however many aliases point at it; what it expands to (values,
        # levels) is remembered, so an alias bomb costs its size in the file, not its expansion.
        self.measured: dict[int, tuple[int, int]] = {}
        self.stopped = False

    def error(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(node_location(node, self.file, path or FILE), message))

    def node(self, node: yaml.Node, path: str, depth: int) -> tuple[int, int]:
        """Check `node` (reached at nesting `depth`); return (values it expands to, levels it nests)."""
        if self.stopped:
            return 1, 1
        if id(node) in self.active:
            self.error(node, path, "recursive alias: this value contains itself")
            return 1, 1
        if id(node) in self.measured:
            size, height = self.measured[id(node)]
        else:
            if depth > limits.MAX_NESTING_DEPTH:
                return self.stop(node, path, f"nested more than {limits.MAX_NESTING_DEPTH} levels deep")
            size, height = self.measure(node, path, depth)
            self.measured[id(node)] = (size, height)
        if self.stopped:
            return size, height
        if depth + height - 1 > limits.MAX_NESTING_DEPTH:
            return self.stop(node, path, f"nested more than {limits.MAX_NESTING_DEPTH} levels deep (through aliases)")
        if size > limits.MAX_EXPANDED_NODES:
            return self.stop(node, path, f"aliases expand this spec to more than {limits.MAX_EXPANDED_NODES} values; "
                                         "use fewer nested aliases")
        return size, height

    def stop(self, node: yaml.Node, path: str, message: str) -> tuple[int, int]:
        self.error(node, _top(path), message)
        self.stopped = True
        return 1, 1

    def measure(self, node: yaml.Node, path: str, depth: int) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            self.scalar(node, path)
            return 1, 1
        if not self.tag_ok(node, path):
            return 1, 1
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                children = self.mapping(node, path, depth)
            else:
                children = [self.node(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))
        return 1 + sum(c[0] for c in children), 1 + max((c[1] for c in children), default=0)

    def tag_ok(self, node: yaml.Node, path: str) -> bool:
        expected = limits.MAP_TAG if isinstance(node, yaml.MappingNode) else limits.SEQ_TAG
        if node.tag == expected or node.tag in limits.CFN_SHORT_TAGS:
            return True
        self.error(node, path, _tag_message(node.tag))
        return False

    def scalar(self, node: yaml.ScalarNode, path: str) -> None:
        if node.tag in limits.CFN_SHORT_TAGS:
            return  # given a meaning in name fields by cfn_values, reported by it elsewhere
        if node.tag not in limits.CORE_SCALAR_TAGS:
            self.error(node, path, _tag_message(node.tag))
            node.tag = "tag:yaml.org,2002:str"  # reported; later stages see text
            return
        try:
            value = self.constructor.construct_object(node)
        except Exception:
            self.error(node, path, f"'{_short(node.value)}' is not a valid {_CORE_NAMES[node.tag]} value")
            node.tag = "tag:yaml.org,2002:str"
            return
        if isinstance(value, int) and not isinstance(value, bool) and len(node.value) > limits.MAX_INT_DIGITS:
            self.error(node, path, f"an integer of {len(node.value)} characters; at most {limits.MAX_INT_DIGITS}")
            node.tag = "tag:yaml.org,2002:str"

    def mapping(self, node: yaml.MappingNode, path: str, depth: int) -> list[tuple[int, int]]:
        self.merge(node, path)
        seen: dict[str, yaml.Node] = {}
        children: list[tuple[int, int]] = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag not in limits.CORE_SCALAR_TAGS:
                what = "a mapping" if isinstance(key, yaml.MappingNode) else "a list" if isinstance(key, yaml.SequenceNode) else f"a {key.tag} value"
                self.error(key, path, f"keys must be plain strings, got {what}")
                continue
            name = str(key.value)
            child = f"{path}.{name}" if path else name
            if name in seen:
                first = seen[name].start_mark.line + 1
                self.error(key, child, f"duplicate key '{_short(name)}' (first defined on line {first})")
            else:
                seen[name] = key
            children.append(self.node(value, child, depth + 1))
        return children

    def merge(self, node: yaml.MappingNode, path: str) -> None:
        """Apply `<<` merge keys in place: the mapping's own keys win, then earlier merged mappings."""
        if not any(k.tag == limits.MERGE_TAG for k, _ in node.value):
            return
        own = [(k, v) for k, v in node.value if k.tag != limits.MERGE_TAG]
        names = {str(k.value) for k, _ in own if isinstance(k, yaml.ScalarNode)}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            if key.tag != limits.MERGE_TAG:
                continue
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or source is node or id(source) in self.active:
                    self.error(source, path or FILE, "a merge key '<<' takes a mapping or a list of mappings "
                                                      "(e.g. '<<: *defaults')")
                    continue
                self.active.add(id(node))
                try:
                    self.merge(source, path)
                finally:
                    self.active.discard(id(node))
                for k, v in source.value:
                    name = str(k.value) if isinstance(k, yaml.ScalarNode) else None
                    if name is not None and name not in names:
                        names.add(name)
                        merged.append((k, v))
        node.value = own + merged


def _top(path: str) -> str:
    """The top-level key of a path (a path 64 levels deep is no help to read)."""
    return re.split(r"[.\[]", path, maxsplit=1)[0] or FILE


def _tag_message(tag: str) -> str:
    if tag in limits.CFN_SHORT_TAGS:
        return f"CloudFormation intrinsic functions ({tag}) are not supported here; write the literal value"
    shown = _CORE_NAMES.get(tag) or ("!!" + tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag)
    return f"YAML tag '{_short(shown)}' is not supported here; mlmon specs use plain YAML values"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
