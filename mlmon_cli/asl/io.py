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
import math
import re
from pathlib import PurePath
from typing import Literal

import yaml

from ..limits import MAX_ASL_BYTES as MAX_BYTES
from ..limits import MAX_ASL_NESTING_DEPTH as MAX_DEPTH
from ..limits import MAX_EXPANDED_NODES as MAX_EXPANDED  # values after alias expansion: an alias bomb stops here
from ..limits import MAX_INT_DIGITS

__all__ = ["AslLoadError", "dump_asl", "load_asl"]


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


class _BadConstant(Exception):
    def __init__(self, token: str):
        self.token = token


def _no_constant(token: str) -> object:
    raise _BadConstant(token)


def _bounded_int(token: str) -> int:
    if len(token.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadConstant(token)
    return int(token)


def _load_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_int=_bounded_int)
    except RecursionError:
        raise AslLoadError(f"nested more than {MAX_DEPTH} levels deep", 1, 1) from None
    except _BadConstant as bad:
        at = text.find(bad.token)
        line, col = _line_col(text, at) if at >= 0 else (1, 1)
        what = "NaN and Infinity are not JSON numbers" if not bad.token.lstrip("-")[:1].isdigit() else (
            f"an integer of {len(bad.token)} digits; at most {MAX_INT_DIGITS}")
        raise AslLoadError(what, line, col) from None
    except _DuplicateKey as dup:
        hits = [m.start() for m in re.finditer(re.escape(json.dumps(dup.key)) + r"\s*:", text)]
        where = _line_col(text, hits[1]) if len(hits) > 1 else (None, None)
        raise AslLoadError(f"duplicate key {dup.key!r}", *where) from None


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    if id(node) in memo:
        return memo[id(node)]
    if id(node) in active:
        raise AslLoadError("recursive alias: a value contains itself", node.start_mark.line + 1, node.start_mark.column + 1)
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo, active) + _expanded_size(v, memo, active) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, memo, active) for v in node.value)
    else:
        size = 1
    active.discard(id(node))
    memo[id(node)] = size
    if size > MAX_EXPANDED:
        raise AslLoadError(f"aliases expand this definition to more than {MAX_EXPANDED} values",
                           node.start_mark.line + 1, node.start_mark.column + 1)
    return size


def _load_yaml(text: str) -> object:
    loader = None
    try:
        loader = _AslYamlLoader(text)  # the reader checks every character here already
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    except AslLoadError:
        raise  # located already (a duplicate key)
    except RecursionError:
        raise AslLoadError(f"nested more than {MAX_DEPTH} levels deep", 1, 1) from None
    except TypeError as exc:  # an unhashable key: a list or mapping used as a key
        raise AslLoadError(f"invalid YAML: keys must be strings ({exc})", 1, 1) from None
    except (ValueError, KeyError) as exc:  # `!!int abc`, `!!bool maybe`, an integer past Python's digit limit
        raise AslLoadError(f"invalid YAML value: {exc}", 1, 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise AslLoadError(f"invalid YAML: {exc.problem or exc}", line, col) from None
    except yaml.YAMLError as exc:
        raise AslLoadError(f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_asl(text: str, filename: str) -> dict:
    """Parse ASL text: YAML for ``.yaml``/``.yml``; otherwise JSON, falling back to YAML.

    A ``.json`` file is never re-read as YAML, so its JSON error is what the user sees.
    """
    if len(text) > MAX_BYTES:
        raise AslLoadError(f"the file has {len(text)} characters; a state machine definition is at most {MAX_BYTES} bytes", 1, 1)
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
    _check_values(data, "", text, 0, set())
    return data


def _check_values(value: object, path: str, text: str, depth: int, active: set[int]) -> None:
    """Refuse what JSON cannot hold or Step Functions would misread: cycles (recursive YAML aliases),
    nesting past MAX_DEPTH, non-string keys, NaN/infinity, integers past MAX_INT_DIGITS."""
    where = path or "(root)"
    if depth > MAX_DEPTH:
        raise AslLoadError(f"{where}: nested more than {MAX_DEPTH} levels deep", 1, 1)
    if isinstance(value, float) and not math.isfinite(value):
        raise AslLoadError(f"{where}: {value} is not a JSON number (finite numbers only)", *_find(text, str(value)))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_INT_DIGITS:
        raise AslLoadError(f"{where}: an integer of more than {MAX_INT_DIGITS} digits", 1, 1)
    if not isinstance(value, (dict, list)):
        return
    if id(value) in active:
        raise AslLoadError(f"{where}: recursive alias: this value contains itself", 1, 1)
    active.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                shown = "null" if key is None else json.dumps(key) if isinstance(key, (int, float, bool)) else type(key).__name__
                raise AslLoadError(f"{where}: keys (and state names) must be strings, got {shown}", *_find(text, str(shown) + ":"))
            _check_values(item, f"{path}.{key}" if path else key, text, depth + 1, active)
    else:
        for index, item in enumerate(value):
            _check_values(item, f"{where}[{index}]", text, depth + 1, active)
    active.discard(id(value))


def _find(text: str, token: str) -> tuple[int, int]:
    at = text.find(token)
    return _line_col(text, at) if at >= 0 else (1, 1)


def dump_asl(defn: dict, fmt: Literal["json", "yaml"] = "json") -> str:
    """Serialise with key order kept; JSON uses indent=2 and keeps non-ASCII text as is."""
    if fmt == "json":
        return json.dumps(defn, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.dump(
            defn, Dumper=_AslYamlDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
        )
    raise ValueError(f"unknown format {fmt!r}: expected 'json' or 'yaml'")
