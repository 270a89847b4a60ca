"""Reference text generated from the code itself (kind tables, alarm defaults, override keys).

The README embeds `mlmon kinds --markdown`; a test fails when the two drift apart.
"""

from __future__ import annotations

import sys

from .components import REGISTRY, builtin_kinds, load_all
from .components.base import UNITS, AlarmDef
from .spec.custom import reference_markdown as custom_reference_markdown
from .spec.fields import fields_table
from .spec.logs import reference_markdown as logs_reference_markdown
from .spec.model import AlarmDefaults, AlarmOverride, Notifications

__all__ = ["fields_table", "kinds_markdown", "kinds_text", "spec_reference_markdown"]


def _threshold(a: AlarmDef) -> str:
    if a.threshold is None:
        return "given or derived"
    value = int(a.threshold) if float(a.threshold).is_integer() else a.threshold
    return f"{a.comparison} {value}{UNITS[a.unit]}"


def _alarm_rows(kind: type) -> list[str]:
    rows = ["| alarm key | metric (namespace) | dimensions | statistic | threshold | period, M of N | missing data | on by default |",
            "|---|---|---|---|---|---|---|---|"]
    for a in kind.alarms:
        if a.is_event:
            assert a.event is not None
            metric = f"TriggeredRules (AWS/Events) of a rule on `{a.event.detail_type}`"
            dims = "RuleName"
        else:
            metric = f"{a.metric} ({a.namespace})"
            dims = ", ".join(_dimension_names(kind, a))
        rows.append(
            f"| `{a.key}` | {metric} | {dims} | {a.statistic} | {_threshold(a)} | {a.period} s, {a.datapoints_to_alarm} of "
            f"{a.evaluation_periods} | {a.treat_missing_data} | {'yes' if a.enabled else 'no'} |"
        )
    return rows


def _dimension_names(kind: type, a: AlarmDef) -> list[str]:
    own = list(a.dimensions) if a.dimensions is not None else list(kind.dimension_names)
    return (own + [f"{k}={v}" for k, v in a.extra_dimensions.items()]) or ["none"]


def kinds_markdown(kinds: dict[str, type] | None = None) -> str:
    """Markdown reference of every kind (default: the built-in ones): options, then alarms with their defaults."""
    kinds = builtin_kinds() if kinds is None else kinds
    out = []
    for name in sorted(kinds):
        kind = kinds[name]
        module_doc = (sys.modules[kind.__module__].__doc__ or "").strip()
        out.append(f"### `{name}`: {kind.title}\n\n{module_doc}\n")
        out.append("Options:\n\n" + fields_table(kind.Options))
        if kind.example:  # built-in kinds show theirs in specs/*.yaml
            out.append("Example:\n\n```yaml\n" + kind.example.rstrip("\n") + "\n```\n")
        if hasattr(kind, "reference_markdown"):  # a kind with nested structure documents it itself
            out.append(kind.reference_markdown())
        out.append("Alarms (why, and the first thing to do, are written into each AlarmDescription):\n\n" + "\n".join(_alarm_rows(kind)) + "\n")
        for a in kind.alarms:
            note = f" {a.caveat}" if a.caveat else ""
            out.append(f"- `{a.key}`: {a.why}. First step: {a.first_step}.{note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def spec_reference_markdown() -> str:
    """Markdown reference of the spec's shared keys."""
    return (
        "Top level: `solution` (required; letters, digits, `-`, at most 40), `description`, `notifications` "
        "(required), `defaults`, `components` (required, a list).\n\n"
        "`notifications`:\n\n" + fields_table(Notifications) + "\n"
        "`defaults` (apply to every alarm unless an alarm overrides them):\n\n" + fields_table(AlarmDefaults) + "\n"
        "Each component: `kind` (required), `name` (required; letters, digits, `-`, `_`, at most 64, unique), "
        "`description`, `alarms`, and the kind's options below. `alarms` maps an alarm key to overrides "
        "(or to `false` to disable it):\n\n" + fields_table(AlarmOverride) + "\n" + logs_reference_markdown()
        + "\n" + custom_reference_markdown()
    )


def kinds_text() -> str:
    load_all()
    lines = []
    for name in sorted(REGISTRY):
        kind = REGISTRY[name]
        lines.append(f"{name}: {kind.title}")
        for a in kind.alarms:
            lines.append(f"  {a.key:<24} {'on ' if a.enabled else 'off'} {a.metric if not a.is_event else 'TriggeredRules'} {a.statistic} {_threshold(a)}")
    return "\n".join(lines) + "\n"
