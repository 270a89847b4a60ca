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
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9_ ./:@*$(){}+=,-]*\Z")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)\Z"
)
_NUMBERISH = re.compile(r"^[-+.0-9]|^\.(?:inf|nan)\Z", re.I)
_BLOCK_SAFE = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff\t]*\Z")


_SCALARS = (str, int, float, bool, type(None))
Unwrap = Callable[[Any], Any]


def _no_objects(value: Any) -> Any:
    raise TypeError(f"cannot write {type(value).__name__} into a template")


def to_json(data: dict[str, Any], unwrap: Unwrap = _no_objects) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False,  # NaN is no JSON
                      default=unwrap) + "\n"


def to_yaml(data: dict[str, Any], unwrap: Unwrap = _no_objects) -> str:
    global _unwrap
    lines: list[str] = []
    _unwrap, previous = unwrap, _unwrap
    _seen.clear()
    try:
        _mapping(data, "", lines)
    finally:
        _unwrap = previous
        _seen.clear()
    return "\n".join(lines) + "\n"


def dump(data: dict[str, Any], fmt: str, unwrap: Unwrap = _no_objects) -> str:
    """The template text of `data`. `unwrap` turns any other object met on the way (a troposphere
    resource or intrinsic) into data one level at a time, so a template need not be copied into
    plain data first."""
    return to_json(data, unwrap) if fmt == "json" else to_yaml(data, unwrap)


_unwrap: Unwrap = _no_objects


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)  # what json.dumps writes, without its encoder set-up per number
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
    text = float.__repr__(value)  # what json.dumps writes for a finite float
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
    if " \n" in value:  # a line with trailing spaces (the last line's were refused above)
        return None
    pad = indent + "  "
    return "|-\n" + "\n".join([pad + line if line else "" for line in value.split("\n")])


@lru_cache(maxsize=4096)
def _key(key: str) -> str:
    return key if _PLAIN.match(key) and not _RESERVED.match(key) and ": " not in key else _double_quoted(key)


def _mapping(data: dict[str, Any], indent: str, lines: list[str]) -> None:
    for key in sorted(data):
        _entry(f"{indent}{_key(key)}:", data[key], indent, lines)


_SCALAR_TYPES = frozenset(_SCALARS)


def _entry(head: str, value: Any, indent: str, lines: list[str]) -> None:
    # Dispatch on the exact type first: a template is almost only str, dict and list, and a chain
    # of isinstance tests per value was a large share of writing a big template.
    kind = type(value)
    if kind is str:
        if "\n" in value and (block := _block(value, indent)) is not None:
            lines.append(f"{head} {block}")
        else:
            lines.append(f"{head} {_string(value)}")
    elif kind is dict:
        if value:
            lines.append(head)
            _mapping(value, indent + "  ", lines)
        else:
            lines.append(head + " {}")
    elif kind is list:
        if value:
            lines.append(head)
            _shared_sequence(value, indent, lines)
        else:
            lines.append(head + " []")
    elif kind in _SCALAR_TYPES:
        lines.append(f"{head} {_scalar(value)}")
    else:
        _other_entry(head, value, indent, lines)


def _other_entry(head: str, value: Any, indent: str, lines: list[str]) -> None:
    """Subclasses of the JSON types, tuples, and objects the `unwrap` hook turns into data."""
    if isinstance(value, dict):
        _entry(head, dict(value), indent, lines)
    elif isinstance(value, (list, tuple)):
        _entry(head, list(value), indent, lines)
    elif isinstance(value, str):
        _entry(head, str(value), indent, lines)
    elif isinstance(value, _SCALARS):
        lines.append(f"{head} {_scalar(value)}")
    else:
        _entry(head, _unwrap(value), indent, lines)


# One list object met again at the same indent (the tag list every alarm of a component shares)
# is written once and its lines copied: (id, indent) -> (the list, kept so its id is not reused;
# its lines once seen twice). Emptied per template by `to_yaml`.
_seen: dict[tuple[int, str], tuple[list[Any], list[str] | None]] = {}


def _shared_sequence(items: list[Any], indent: str, lines: list[str]) -> None:
    key = (id(items), indent)
    hit = _seen.get(key)
    if hit is None or hit[0] is not items:
        _seen[key] = (items, None)
        _sequence(items, indent, lines)
    elif hit[1] is not None:
        lines.extend(hit[1])
    else:
        start = len(lines)
        _sequence(items, indent, lines)
        _seen[key] = (items, lines[start:])


def _sequence(items: list[Any], indent: str, lines: list[str]) -> None:
    for item in items:
        kind = type(item)
        if kind is dict and item:
            inner = indent + "  "
            first = True
            for key in sorted(item):
                head = f"{indent}- {_key(key)}:" if first else f"{inner}{_key(key)}:"
                _entry(head, item[key], inner, lines)
                first = False
        elif kind is list and item:
            lines.append(f"{indent}-")
            _sequence(item, indent + "  ", lines)
        elif kind is str or kind is dict or kind is list or kind in _SCALAR_TYPES:
            _entry(f"{indent}-", item, indent, lines)
        elif isinstance(item, dict):
            _sequence([dict(item)], indent, lines)
        elif isinstance(item, (list, tuple)):
            _sequence([list(item)], indent, lines)
        elif isinstance(item, _SCALARS):
            _entry(f"{indent}-", item, indent, lines)
        else:
            _sequence([_unwrap(item)], indent, lines)


PARALLEL_MIN_RESOURCES = 3000


def _text(template: Any, fmt: str) -> str:
    """A template object's text: straight from its own objects when it can hand them over
    (`template_data` and `unwrap`, see core/template.py), else from its `to_dict`."""
    if hasattr(template, "template_data"):
        return dump(template.template_data(), fmt, template.unwrap)
    return dump(template.to_dict(), fmt)


def dump_all(templates: dict[str, Any], fmt: str) -> dict[str, str]:
    """Serialize templates by name, in order.

    Large split outputs are written on every core: this process writes one share of the templates
    and a forked child per extra core writes another (inheriting the built templates for free and
    sending back only text), which roughly halves this step on 2 cores. A pool of workers with the
    parent idle cost a third more CPU than writing in one process; this costs about a tenth more.
    """
    import multiprocessing
    import os

    total = sum(len(t.resources) for t in templates.values())
    workers = min(os.cpu_count() or 1, len(templates))
    if workers < 2 or total < PARALLEL_MIN_RESOURCES or "fork" not in multiprocessing.get_all_start_methods():
        return {name: _text(t, fmt) for name, t in templates.items()}
    by_size = sorted(templates, key=lambda name: -len(templates[name].resources))
    shares = [by_size[i::workers] for i in range(workers)]  # balanced by resource count
    context = multiprocessing.get_context("fork")
    children = []
    for share in shares[1:]:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_write_share, args=(templates, share, fmt, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    done = {name: _text(templates[name], fmt) for name in shares[0]}
    for child, receive in children:
        try:
            texts = receive.recv()
        except EOFError:
            texts = RuntimeError("a template writer process ended without its templates")
        finally:
            receive.close()
            child.join()
        if isinstance(texts, Exception):
            raise texts
        done.update(texts)
    return {name: done[name] for name in templates}


def _write_share(templates: dict[str, Any], share: list[str], fmt: str, send: Any) -> None:
    """A forked child's part of `dump_all`: its templates' text, or the error it met."""
    try:
        result: Any = {name: _text(templates[name], fmt) for name in share}
    except Exception as exc:  # handed to the parent, which raises it
        result = RuntimeError(f"writing a template failed: {type(exc).__name__}: {exc}")
    send.send(result)
    send.close()


# --------------------------------------------------------------------------- merged output as a diff
MERGED_SECTIONS = ("Parameters", "Conditions", "Resources", "Outputs")
_TOP_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)[ \t]*:(.*)$")


def merged_text(app_text: str, app_data: dict[str, Any], merged: dict[str, Any], fmt: str) -> str | None:
    """The user's own template text with mlmon's entries added, so a review diff shows only added
    lines: YAML keeps comments, order, short-form tags and inline code (mlmon's entries go at the
    end of each section, or in a section appended at the end); JSON keeps the user's order
    (re-indented). None when the text cannot be kept (flow-style sections, or the result would not
    read back as `merged`): the caller writes `dump(merged)` instead."""
    if fmt == "json":
        if not app_text.lstrip().startswith("{"):
            return None
        return json.dumps(merged, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if app_text.lstrip().startswith("{"):
        return None
    lines = app_text.splitlines()
    tops = [(i, m.group(1), m.group(2)) for i, line in enumerate(lines) if (m := _TOP_KEY.match(line))]
    inserts: list[tuple[int, list[str]]] = []
    appended: list[str] = []
    for section in MERGED_SECTIONS:
        theirs = app_data.get(section) or {}
        extra = {k: v for k, v in (merged.get(section) or {}).items() if k not in theirs}
        if not extra:
            continue
        found = [(n, (i, rest)) for n, (i, name, rest) in enumerate(tops) if name == section]
        if not found:
            appended += [f"{section}:", *("  " + line if line else line for line in to_yaml(extra).splitlines())]
            continue
        n, (start, rest) = found[0]
        if rest.strip() and not rest.strip().startswith("#"):
            return None  # a flow-style or empty-valued section
        end = tops[n + 1][0] if n + 1 < len(tops) else len(lines)
        body = [i for i in range(start + 1, end) if lines[i].strip() and not lines[i].lstrip().startswith("#")]
        indent = " " * (len(lines[body[0]]) - len(lines[body[0]].lstrip())) if body else "  "
        last = body[-1] if body else start
        inserts.append((last + 1, [indent + line if line else line for line in to_yaml(extra).splitlines()]))
    out = list(lines)
    for at, block in sorted(inserts, reverse=True):
        out[at:at] = block
    newline = "\r\n" if "\r\n" in app_text else "\n"  # the user's line endings, kept
    text = newline.join(out + appended) + newline
    return text if _reads_as(text, merged) else None


def _reads_as(text: str, merged: dict[str, Any]) -> bool:
    """Does the text decode (as CloudFormation reads it) to the merged template, apart from the
    format version mlmon adds to a template without one?"""
    from cfnlint.decode import decode_str

    try:
        data, matches = decode_str(text)
    except Exception:  # any decoder failure means: write the plain dump instead
        return False
    if matches or not isinstance(data, dict):
        return False
    plain = json.loads(json.dumps(data, default=str))
    expected = {k: v for k, v in merged.items() if k in plain or k != "AWSTemplateFormatVersion"}
    return bool(plain == expected)
