"""mlmon's rules as cfn-lint rules: `cfn-lint --append-rules "$(mlmon rules --path)" template.yaml`.

cfn-lint loads every `*.py` of this directory and instantiates each `CloudFormationLintRule`
subclass it finds. One class per mlmon rule, each wrapping the same check function `mlmon lint`
runs, so IDs, messages, `--ignore-checks` and resource `Metadata` ignores behave the same in both.
cfn-lint derives severity from an ID's first letter (E/W/I) and by default runs only IDs that
start with E or W; these classes state their severity instead, and are on by default when they are
errors or warnings (as cfn-lint's E/W rules), informational ones with `--include-checks I` (or the ID).
"""

from __future__ import annotations

import os
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.rules._rule import _rule_is_enabled

from mlmon_cli.rules import Rule, TemplateContext, all_rules

_CONTEXT = "_mlmon_context"


def _context(cfn) -> TemplateContext:
    """One TemplateContext per template, shared by all mlmon rules (state machines are parsed once)."""
    ctx = getattr(cfn, _CONTEXT, None)
    if ctx is None:
        filename = getattr(cfn, "filename", None)
        size = base_dir = None
        if filename and os.path.isfile(filename):
            size, base_dir = os.path.getsize(filename), Path(filename).parent
        ctx = TemplateContext(cfn.template, size=size, base_dir=base_dir)
        setattr(cfn, _CONTEXT, ctx)
    return ctx


def _rule_class(rule: Rule) -> type:
    def match(self, cfn):
        return [RuleMatch(list(hit.path), hit.message) for hit in rule.check(_context(cfn))]

    def is_enabled(self, include_experimental=False, ignore_rules=None, include_rules=None, mandatory_rules=None):
        include = list(include_rules or [])
        if rule.severity != "informational" or "I" in include:
            include.append(rule.id)
        return _rule_is_enabled(self, include_experimental, ignore_rules, include, mandatory_rules)

    return type(f"Mlmon{rule.id}", (CloudFormationLintRule,), {
        "__module__": __name__,
        "__doc__": rule.shortdesc,
        "id": rule.id,
        "shortdesc": rule.shortdesc,
        "description": rule.description,
        "source_url": rule.source_url,
        "tags": ["mlmon", *rule.tags],
        "severity": rule.severity,
        "match": match,
        "is_enabled": is_enabled,
    })


for _rule in all_rules():
    globals()[f"Mlmon{_rule.id}"] = _rule_class(_rule)
