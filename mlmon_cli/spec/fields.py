"""Field metadata of the spec model and the vocabulary shared by every spec module.

The lowest module of the spec layer: the model, the log keys and every kind's options describe
their fields with `doc(...)`, and the reference tables (README, `mlmon kinds`) are rendered from
that metadata by `fields_table`, so documentation and validation come from one source.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ..limits import TREAT_MISSING_DATA

SEVERITIES = ("critical", "warning")

__all__ = ["SEVERITIES", "TREAT_MISSING_DATA", "doc", "fields_table", "threshold_problem"]


def doc(text: str, **extra: Any) -> dict[str, Any]:
    """Field metadata helper: `field(default=..., metadata=doc("..."))`."""
    return {"doc": text, **extra}


def _type_name(hint: typing.Any) -> str:
    text = str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("tuple[str, ...]", "list of str").replace(" | None", "")


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
        if value is None:
            return "-"
        if isinstance(value, tuple):
            return "[" + ", ".join(value) + "]"
        return str(value).lower() if isinstance(value, bool) else str(value)
    return "**required**"


def fields_table(cls: type) -> str:
    """A Markdown table of a dataclass's keys, types, defaults and meanings."""
    hints = typing.get_type_hints(cls)
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        unit = f" ({f.metadata['unit']})" if "unit" in f.metadata else ""
        rows.append(f"| `{f.name}` | {f.metadata.get('type') or _type_name(hints[f.name])}{unit} | {_default(f)} | {f.metadata.get('doc', '')} |")
    return "\n".join(rows) + "\n"


def threshold_problem(unit: str, value: float) -> str:
    """What is wrong with a threshold in its natural unit (fractions 0-1, percentages 0-100, no negatives)."""
    if unit in ("fraction", "ratio") and not 0 <= value <= 1:
        hint = f" (did you mean {value / 100:g}?)" if 1 < value <= 100 else ""
        return f"is a fraction between 0 and 1, got {value:g}{hint}"
    if unit == "percent" and not 0 <= value <= 100:
        return f"is a percentage between 0 and 100, got {value:g}"
    if value < 0:
        return f"must not be negative, got {value:g}"
    return ""
