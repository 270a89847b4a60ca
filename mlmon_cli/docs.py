"""Reference text generated from the code itself (kind tables, alarm defaults, override keys, rules).

docs/kinds.md, docs/rules.md and the reference section of docs/spec.md are generated here;
tests/test_docs.py fails when a document drifts from the code (`pytest --update-goldens` rewrites them).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from .components import REGISTRY, builtin_kinds, load_all
from .components.base import UNITS, AlarmDef, Component
from .spec.custom import reference_markdown as custom_reference_markdown
from .spec.fields import fields_table
from .spec.logs import reference_markdown as logs_reference_markdown
from .spec.model import AlarmDefaults, AlarmOverride, Notifications
from .spec.organization import Organization, StackSetTarget

__all__ = ["fields_table", "kinds_markdown", "kinds_text", "spec_reference_markdown"]


def _threshold(a: AlarmDef) -> str:
    p = a.policy
    if p.threshold is None:
        return "given or derived"
    value = int(p.threshold) if float(p.threshold).is_integer() else p.threshold
    return f"{p.comparison} {value}{UNITS[a.metric.unit]}"


def _alarm_rows(kind: type[Component]) -> list[str]:
    rows = ["| alarm key | metric (namespace) | dimensions | statistic | threshold | period, M of N | missing data | on by default |",
            "|---|---|---|---|---|---|---|---|"]
    for a in kind.alarms:
        if a.is_event:
            assert a.event is not None
            metric = f"TriggeredRules (AWS/Events) of a rule on `{a.event.detail_type}`"
            dims = "RuleName"
        else:
            metric = f"{a.metric.name} ({a.metric.namespace})"
            dims = ", ".join(_dimension_names(kind, a))
        p = a.policy
        rows.append(
            f"| `{a.key}` | {metric} | {dims} | {a.metric.statistic} | {_threshold(a)} | {p.period} s, {p.datapoints_to_alarm} of "
            f"{p.evaluation_periods} | {p.treat_missing_data} | {'yes' if p.enabled else 'no'} |"
        )
    return rows


def _dimension_names(kind: type[Component], a: AlarmDef) -> list[str]:
    own = list(a.metric.dimensions) if a.metric.dimensions is not None else list(kind.dimension_names)
    return (own + [f"{k}={v}" for k, v in a.metric.fixed]) or ["none"]


def kinds_markdown(kinds: dict[str, type[Component]] | None = None) -> str:
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
            note = f" {a.docs.caveat}" if a.docs.caveat else ""
            out.append(f"- `{a.key}`: {a.docs.why}. First step: {a.docs.first_step}.{note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def spec_reference_markdown() -> str:
    """Markdown reference of the spec's shared keys."""
    return (
        "Top level: `solution` (required; letters, digits, `-`, at most 40), `description`, `notifications` "
        "(required), `defaults`, `components` (required, a list), `organization` (many accounts and Regions).\n\n"
        "`notifications`:\n\n" + fields_table(Notifications) + "\n"
        "`defaults` (apply to every alarm unless an alarm overrides them):\n\n" + fields_table(AlarmDefaults) + "\n"
        "Each component: `kind` (required), `name` (required; letters, digits, `-`, `_`, at most 64, unique), "
        "`description`, `alarms`, and the kind's options ([kinds.md](kinds.md)). `alarms` maps an alarm key to overrides "
        "(or to `false` to disable it):\n\n" + fields_table(AlarmOverride) + "\n" + logs_reference_markdown()
        + "\n" + custom_reference_markdown()
        + "\n`organization` (the README's \"Across accounts and Regions\"):\n\n" + fields_table(Organization)
        + "\nEach of `organization.targets`:\n\n" + fields_table(StackSetTarget)
    )


def kinds_text() -> str:
    load_all()
    lines = []
    for name in sorted(REGISTRY):
        kind = REGISTRY[name]
        lines.append(f"{name}: {kind.title}")
        for a in kind.alarms:
            lines.append(f"  {a.key:<24} {'on ' if a.policy.enabled else 'off'} {a.metric.name} {a.metric.statistic} {_threshold(a)}")
    return "\n".join(lines) + "\n"


# ---- the generated documents under docs/ (tests/test_docs.py keeps them fresh) ----------------
GENERATED_BEGIN = "<!-- BEGIN GENERATED REFERENCE (pytest --update-goldens rewrites this section) -->\n"
GENERATED_END = "<!-- END GENERATED REFERENCE -->"
_WHOLE_FILE = "<!-- Generated by mlmon_cli/docs.py; `pytest --update-goldens` rewrites this file. Edit the code it comes from. -->"


def kinds_document() -> str:
    """docs/kinds.md: every built-in kind's options and alarms."""
    return (
        f"# Component kinds and their alarms\n\n{_WHOLE_FILE}\n\n"
        "Each kind's options and alarms, from its module in `mlmon_cli/components/` (`mlmon kinds --markdown` prints the same).\n"
        "Thresholds are in natural units; how to override or disable an alarm, and the keys every component takes, are in\n"
        "the [spec reference](spec.md#spec-reference).\n\n"
        + re.sub(r"^### ", "## ", kinds_markdown(), flags=re.M)
    )


def rules_document() -> str:
    """docs/rules.md: mlmon's lint rules, each linked to the AWS page behind it."""
    from .rules import rules_markdown

    return (
        f"# Lint rules\n\n{_WHOLE_FILE}\n\n"
        "`mlmon lint` runs these after cfn-lint; plain cfn-lint runs them with `--append-rules \"$(mlmon rules --path)\"`\n"
        "([README](../README.md#lint-rules-in-your-editor-ci-and-cfn-lint)). `mlmon rules` lists them.\n\n"
        + rules_markdown()
    )


def spec_document(current: str) -> str:
    """docs/spec.md with its generated section (the reference of the shared keys) brought up to date."""
    start, end = current.index(GENERATED_BEGIN) + len(GENERATED_BEGIN), current.index(GENERATED_END)
    return current[:start] + "\n## Spec reference\n\n" + spec_reference_markdown() + "\n" + current[end:]


def documents(current: Callable[[str], str]) -> dict[str, str]:
    """Every generated document (path relative to the repository) with the text it must have;
    `current(path)` reads a document whose hand-written parts are kept."""
    return {"docs/kinds.md": kinds_document(), "docs/rules.md": rules_document(), "docs/spec.md": spec_document(current("docs/spec.md"))}
