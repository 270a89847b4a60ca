"""Template text: deterministic JSON or YAML from the same dict.

YAML is emitted by a small writer for the JSON-like data a template is (dicts, lists, strings,
numbers, booleans): PyYAML's representer walks every node in Python and troposphere's own YAML
goes through cfn-flip, both several times slower on large templates. Strings that are not
plainly safe are single-quoted when printable on one line, otherwise written as JSON strings
(valid YAML double-quoted scalars); multi-line text becomes a literal block. A test round-trips every output through PyYAML.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9_ ./:@*$(){}+=,-]*\Z")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)\Z"
)
_NUMBERISH = re.compile(r"^[-+.0-9]|^\.(?:inf|nan)\Z", re.I)
_BLOCK_SAFE = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff\t]*\Z")


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"  # NaN is no JSON


def to_yaml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    _mapping(data, "", lines)
    return "\n".join(lines) + "\n"


def dump(data: dict[str, Any], fmt: str) -> str:
    return to_json(data) if fmt == "json" else to_yaml(data)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return json.dumps(value)
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"cannot write {type(value).__name__} into a template")


def _float(value: float) -> str:
    """A YAML 1.1 float (what CloudFormation and PyYAML read): `1e+308` would be a string there, so
    the mantissa gets a dot, and infinities and NaN are written as YAML spells them."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = json.dumps(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent if exponent[0] in '+-' else '+' + exponent}"
    return text


@lru_cache(maxsize=65536)  # names, operators and namespaces repeat thousands of times in large templates
def _string(value: str) -> str:
    plain = not value.endswith((" ", ":")) and " #" not in value and ": " not in value
    if plain and _PLAIN.match(value) and not _RESERVED.match(value) and not _NUMBERISH.match(value):
        return value
    if "\n" not in value and "\r" not in value and _BLOCK_SAFE.match(value) and value.isprintable():
        return "'" + value.replace("'", "''") + "'"  # single quotes: no escapes, reads as written
    return _double_quoted(value)


_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _double_quoted(value: str) -> str:
    """A YAML double-quoted scalar: printable text as is, anything else as a YAML escape.

    Not `json.dumps`: JSON writes characters outside the BMP as surrogate pairs (`\\ud83d\\ude00`),
    which YAML reads as two invalid code points. YAML's own `\\UXXXXXXXX` keeps an emoji one character;
    U+0085, U+2028, U+2029 and U+FEFF are escaped because YAML treats them as breaks or a BOM.
    """
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif ch.isprintable() and code not in (0x85, 0x2028, 0x2029, 0xFEFF) and not 0xD800 <= code <= 0xDFFF:
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _block(value: str, indent: str) -> str | None:
    """A literal block (`|-`) for readable multi-line text, when YAML can hold it exactly."""
    if "\n" not in value or value.endswith(("\n", " ")) or value.startswith((" ", "\n")) or not _BLOCK_SAFE.match(value):
        return None
    body = value.split("\n")
    if any(line != line.rstrip(" ") for line in body):
        return None
    pad = indent + "  "
    return "|-\n" + "\n".join(pad + line if line else "" for line in body)


@lru_cache(maxsize=4096)
def _key(key: str) -> str:
    return key if _PLAIN.match(key) and not _RESERVED.match(key) and ": " not in key else _double_quoted(key)


def _mapping(data: dict[str, Any], indent: str, lines: list[str]) -> None:
    for key in sorted(data):
        _entry(f"{indent}{_key(key)}:", data[key], indent, lines)


def _entry(head: str, value: Any, indent: str, lines: list[str]) -> None:
    if isinstance(value, dict):
        if value:
            lines.append(head)
            _mapping(value, indent + "  ", lines)
        else:
            lines.append(head + " {}")
    elif isinstance(value, list):
        if value:
            lines.append(head)
            _sequence(value, indent, lines)
        else:
            lines.append(head + " []")
    elif isinstance(value, str) and "\n" in value and (block := _block(value, indent)) is not None:
        lines.append(f"{head} {block}")
    else:
        lines.append(f"{head} {_scalar(value)}")


def _sequence(items: list[Any], indent: str, lines: list[str]) -> None:
    for item in items:
        if isinstance(item, dict) and item:
            inner = indent + "  "
            first = True
            for key in sorted(item):
                head = f"{indent}- {_key(key)}:" if first else f"{inner}{_key(key)}:"
                _entry(head, item[key], inner, lines)
                first = False
        elif isinstance(item, list) and item:
            lines.append(f"{indent}-")
            _sequence(item, indent + "  ", lines)
        else:
            _entry(f"{indent}-", item, indent, lines)


_PENDING: dict[str, Any] = {}  # templates a forked worker serializes (inherited, never pickled)
PARALLEL_MIN_RESOURCES = 3000


def _dump_pending(job: tuple[str, str]) -> tuple[str, str]:
    name, fmt = job
    return name, dump(_PENDING[name].to_dict(), fmt)


def dump_all(templates: dict[str, Any], fmt: str) -> dict[str, str]:
    """Serialize troposphere templates by name, in order.

    Large split outputs are serialized by forked workers, one per core: the children inherit the
    built templates for free and send back only text, which roughly halves this step on 2 cores.
    """
    import multiprocessing
    import os

    total = sum(len(t.resources) for t in templates.values())
    workers = min(os.cpu_count() or 1, len(templates))
    if workers < 2 or total < PARALLEL_MIN_RESOURCES or "fork" not in multiprocessing.get_all_start_methods():
        return {name: dump(t.to_dict(), fmt) for name, t in templates.items()}
    _PENDING.update(templates)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = dict(pool.imap_unordered(_dump_pending, [(name, fmt) for name in templates], chunksize=4))
    finally:
        _PENDING.clear()
    return {name: done[name] for name in templates}
