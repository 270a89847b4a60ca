"""Load and dump ASL files (JSON or YAML) without reordering keys or touching ``${...}`` text.

Why a dedicated loader: ASL files come from SAM/CDK/Terraform projects with ``${...}`` substitutions
and JSONata ``{% %}`` strings; both must round-trip byte-for-byte as values.  The YAML loader:

* is a ``SafeLoader`` *subclass* (the global loader is never modified),
* keeps date-like scalars as strings (a timestamp object could not be written back as JSON),
* rejects duplicate keys - PyYAML and ``json`` silently keep the last one, which for ``States``
  would drop a whole state without a word.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Literal

import yaml

__all__ = ["AslLoadError", "load_asl", "dump_asl"]


class AslLoadError(ValueError):
    """Raised when an ASL file cannot be parsed; ``line``/``column`` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        return f"{where}{self.message}"


class _AslYamlLoader(yaml.SafeLoader):
    """SafeLoader without timestamp resolution and with a duplicate-key check."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise AslLoadError(f"duplicate key {key!r}", mark.line + 1, mark.column + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_AslYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _AslYamlDumper(yaml.SafeDumper):
    """SafeDumper subclass so representer tweaks never leak into other users of PyYAML."""


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None  # keep multi-line strings readable
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_AslYamlDumper.add_representer(str, _str_representer)


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _load_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        hits = [m.start() for m in re.finditer(re.escape(json.dumps(dup.key)) + r"\s*:", text)]
        line, col = _line_col(text, hits[1]) if len(hits) > 1 else (None, None)
        raise AslLoadError(f"duplicate key {dup.key!r}", line, col) from None


def _load_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_AslYamlLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise AslLoadError(f"invalid YAML: {exc.problem or exc}", line, col) from None
    except yaml.YAMLError as exc:
        raise AslLoadError(f"invalid YAML: {exc}") from None


def load_asl(text: str, filename: str) -> dict:
    """Parse ASL text: YAML for ``.yaml``/``.yml``; otherwise JSON, falling back to YAML.

    A ``.json`` file is never re-read as YAML, so its JSON error is what the user sees.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".yaml", ".yml"):
        data = _load_yaml(text)
    else:
        try:
            data = _load_json(text)
        except json.JSONDecodeError as exc:
            if suffix == ".json" or text.lstrip().startswith(("{", "[")):
                raise AslLoadError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
            data = _load_yaml(text)
    if not isinstance(data, dict):
        raise AslLoadError("an ASL definition must be a mapping with StartAt and States", 1, 1)
    return data


def dump_asl(defn: dict, fmt: Literal["json", "yaml"] = "json") -> str:
    """Serialise with key order kept; JSON uses indent=2 and keeps non-ASCII text as is."""
    if fmt == "json":
        return json.dumps(defn, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.dump(
            defn, Dumper=_AslYamlDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
        )
    raise ValueError(f"unknown format {fmt!r}: expected 'json' or 'yaml'")
