"""The rule model: `Rule` (metadata + check function), `Hit` (one finding), `TemplateContext`
(what a check reads) and the registry. No imports of the rule modules, so no import cycles."""

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
    file: str | None = None  # the finding is in this other file (a SAM DefinitionUri definition), at `where`
    where: str = ""  # dotted path inside `file`, e.g. States.Train.Retry[0]


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
    """A decoded template as the checks see it, plus a cache for what several rules derive from it.

    `template` is what `cfnlint.decode` returns (dicts with YAML marks) or any plain dict;
    `size` is the template's size in bytes when known; `base_dir` resolves `DefinitionUri` paths.
    """

    def __init__(self, template: dict[str, Any], size: int | None = None, base_dir: Path | None = None):
        self.template = template
        self.size = size
        self.base_dir = base_dir
        self.cache: dict[str, Any] = {}

    def resources(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical ID, resource) for every resource that is a mapping."""
        resources = self.template.get("Resources")
        if isinstance(resources, dict):
            for name, resource in resources.items():
                if isinstance(resource, dict):
                    yield str(name), resource


REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule; IDs are unique."""
    if rule.id in REGISTRY:
        raise ValueError(f"duplicate rule ID {rule.id}")
    REGISTRY[rule.id] = rule
    return rule


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
