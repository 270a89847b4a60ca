"""mlmon's lint rules as objects, the way cfn-lint structures rules: one registry, one home.

Each `Rule` carries its ID, severity, short and long description, a help link and a check
function `check(ctx) -> Iterable[Hit]`. The same objects drive `mlmon lint` (text, JSON, SARIF),
`mlmon rules`, docs/rules.md and the cfn-lint rule pack loaded with
`cfn-lint --append-rules "$(mlmon rules --path)"` (`rules/cfnlint/mlmon_rules.py`).

A check gets a `TemplateContext` (the decoded template plus what it refers to) and yields `Hit`s:
a CloudFormation path (`("Resources", "Name", "Properties", ...)`, as cfn-lint's `RuleMatch`
takes it) and a message. Paths always exist in the template, so both front ends can locate them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .base import REGISTRY, SEVERITIES, Hit, Rule, TemplateContext, is_ignored, metadata_ignores, register

__all__ = ["REGISTRY", "SEVERITIES", "Hit", "Rule", "TemplateContext", "all_rules", "cfnlint_rules_dir", "get_rule",
           "is_ignored", "metadata_ignores", "register", "rules_markdown", "rules_text", "run_rules"]


def all_rules() -> list[Rule]:
    """Every rule, sorted by ID (imports the rule modules on first use)."""
    from . import asl_rules, template_rules  # noqa: F401 - registration happens on import

    return [REGISTRY[k] for k in sorted(REGISTRY)]


def get_rule(rule_id: str) -> Rule | None:
    all_rules()
    return REGISTRY.get(rule_id)


def run_rules(ctx: TemplateContext, ignore_checks: Iterable[str] = ()) -> Iterator[tuple[Rule, Hit]]:
    """Every (rule, hit) not ignored by `ignore_checks` or by the hit's resource Metadata."""
    ignore_checks = tuple(ignore_checks)
    found = ctx.template.get("Resources")
    resources: dict[str, Any] = found if isinstance(found, dict) else {}
    for rule in all_rules():
        if is_ignored(rule.id, ignore_checks):
            continue
        for hit in rule.check(ctx):
            if len(hit.path) > 1 and hit.path[0] == "Resources" and rule.id in metadata_ignores(resources.get(hit.path[1])):
                continue
            yield rule, hit


def rules_markdown() -> str:
    """The rule table of docs/rules.md (`mlmon rules --markdown`)."""
    rows = ["| rule | severity | what it finds |", "|---|---|---|"]
    for rule in all_rules():
        rows.append(f"| [`{rule.id}`]({rule.source_url}) | {rule.severity} | {rule.shortdesc}: {rule.description} |")
    return "\n".join(rows) + "\n"


def rules_text() -> str:
    """`mlmon rules`: one line per rule."""
    return "".join(f"{r.id}  {r.severity:<13} {r.shortdesc}\n" for r in all_rules())


def cfnlint_rules_dir() -> Path:
    """The directory `cfn-lint --append-rules` loads mlmon's rules from."""
    return Path(__file__).resolve().parent / "cfnlint"
