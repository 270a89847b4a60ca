"""mlmon's lint rules as objects, the way cfn-lint structures rules: one registry, one home.

Each `Rule` carries its ID, severity, short and long description, a help link and a check
function `check(ctx) -> Iterable[Hit]`. The same objects drive `mlmon lint` (text, JSON, SARIF),
`mlmon rules`, the README's rule table and the cfn-lint rule pack loaded with
`cfn-lint --append-rules "$(mlmon rules --path)"` (`rules/cfnlint/mlmon_rules.py`).

A check gets a `TemplateContext` (the decoded template plus what it refers to) and yields `Hit`s:
a CloudFormation path (`("Resources", "Name", "Properties", ...)`, as cfn-lint's `RuleMatch`
takes it) and a message. Paths always exist in the template, so both front ends can locate them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES = ("error", "warning", "informational")


@dataclass(frozen=True)
class Hit:
    """One finding of one rule: where in the template (a path that exists) and what is wrong."""

    path: tuple[Any, ...]
    message: str
    detail: tuple[Any, ...] = ()  # keys inside a definition held as text (DefinitionString/Uri), to find the line in it


@dataclass(frozen=True)
class Rule:
    """A lint rule: metadata for every output format plus the check function."""

    id: str
    severity: str
    shortdesc: str
    description: str
    source_url: str
    check: Callable[[TemplateContext], Iterable[Hit]] = field(repr=False, compare=False)
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} is not one of {SEVERITIES}")


class TemplateContext:
    """A decoded template as the checks see it; derived data (state machines) is computed once.

    `template` is what `cfnlint.decode` returns (dicts with YAML marks) or any plain dict;
    `size` is the template's size in bytes when known; `base_dir` resolves `DefinitionUri` paths.
    """

    def __init__(self, template: dict[str, Any], size: int | None = None, base_dir: Path | None = None):
        self.template = template
        self.size = size
        self.base_dir = base_dir
        self._state_machines: list[Any] | None = None
        self._asl_hits: dict[str, list[Hit]] | None = None

    def resources(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical ID, resource) for every resource that is a mapping."""
        resources = self.template.get("Resources")
        if isinstance(resources, dict):
            for name, resource in resources.items():
                if isinstance(resource, dict):
                    yield str(name), resource

    def state_machines(self) -> list[Any]:
        """Every state machine definition the template holds (see `rules.state_machines`)."""
        if self._state_machines is None:
            from .state_machines import find_state_machines

            self._state_machines = find_state_machines(self)
        return self._state_machines

    def asl_hits(self, rule_id: str) -> list[Hit]:
        """The ASL checker's findings of one rule over every state machine (one checker pass in all)."""
        if self._asl_hits is None:
            from .asl_rules import asl_hits_by_rule

            self._asl_hits = asl_hits_by_rule(self)
        return self._asl_hits.get(rule_id, [])


REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule; IDs are unique."""
    if rule.id in REGISTRY:
        raise ValueError(f"duplicate rule ID {rule.id}")
    REGISTRY[rule.id] = rule
    return rule


def all_rules() -> list[Rule]:
    """Every rule, sorted by ID (imports the rule modules on first use)."""
    from . import asl_rules, template_rules  # noqa: F401 - registration happens on import

    return [REGISTRY[k] for k in sorted(REGISTRY)]


def get_rule(rule_id: str) -> Rule | None:
    all_rules()
    return REGISTRY.get(rule_id)


def is_ignored(rule_id: str, ignore_checks: Iterable[str]) -> bool:
    """cfn-lint's `--ignore-checks` semantics: an entry ignores every rule ID it prefixes."""
    return any(entry and rule_id.startswith(entry) for entry in ignore_checks)


def metadata_ignores(resource: Any) -> list[str]:
    """Rule IDs a resource's `Metadata: {cfn-lint: {config: {ignore_checks: [...]}}}` suppresses (exact IDs, as cfn-lint)."""
    if not isinstance(resource, dict):
        return []
    config = ((resource.get("Metadata") or {}).get("cfn-lint") or {}) if isinstance(resource.get("Metadata"), dict) else {}
    config = config.get("config") if isinstance(config, dict) else None
    ignores = config.get("ignore_checks") if isinstance(config, dict) else None
    return [str(i) for i in ignores] if isinstance(ignores, list) else []


def run_rules(ctx: TemplateContext, ignore_checks: Iterable[str] = ()) -> Iterator[tuple[Rule, Hit]]:
    """Every (rule, hit) not ignored by `ignore_checks` or by the hit's resource Metadata."""
    ignore_checks = tuple(ignore_checks)
    resources = ctx.template.get("Resources") if isinstance(ctx.template.get("Resources"), dict) else {}
    for rule in all_rules():
        if is_ignored(rule.id, ignore_checks):
            continue
        for hit in rule.check(ctx):
            if len(hit.path) > 1 and hit.path[0] == "Resources" and rule.id in metadata_ignores(resources.get(hit.path[1])):
                continue
            yield rule, hit


def rules_markdown() -> str:
    """The README's rule table."""
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
