"""`mlmon lint --format json|sarif`: findings as cfn-lint's JSON shape or as SARIF 2.1.0.

SARIF is what GitHub code scanning uploads (`github/codeql-action/upload-sarif`): every rule of
the run is described in `tool.driver.rules` (ID, descriptions, help link, default level) and each
result points at a file, line and column. Findings in a template generated from a spec point at
the spec file (the generated template is not a file in the repository) and name the generated line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import __version__
from .lint import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning", "informational": "note"}
CFN_LINT_LEVELS = {"error": "Error", "warning": "Warning", "informational": "Informational"}
_GENERATED = re.compile(r"^(?P<file>.*)\((?P<what>generated[^)]*)\)$")


def to_json(findings: list[Finding]) -> str:
    """The cfn-lint `--format json` shape: Filename, Level, Location{Start,End,Path}, Message, Rule."""
    out = []
    for f in findings:
        point = {"ColumnNumber": f.column, "LineNumber": f.line}
        out.append({
            "Filename": f.file,
            "Level": CFN_LINT_LEVELS.get(f.severity, f.severity),
            "Location": {"End": point, "Path": list(f.path) or None, "Start": point},
            "Message": f.message,
            "Rule": {"Description": f.description, "Id": f.rule, "ShortDescription": f.shortdesc, "Source": f.help_uri},
        })
    return json.dumps(out, indent=1, sort_keys=True) + "\n"


def _rule_descriptor(rule_id: str, shortdesc: str, description: str, help_uri: str, severity: str) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": shortdesc or rule_id},
        "fullDescription": {"text": description or shortdesc or rule_id},
        "defaultConfiguration": {"level": SARIF_LEVELS.get(severity, "warning")},
    }
    if help_uri:
        descriptor["helpUri"] = help_uri
        descriptor["help"] = {"text": f"{shortdesc}: {help_uri}"}
    return descriptor


def to_sarif(findings: list[Finding]) -> str:
    """One SARIF 2.1.0 run: every mlmon rule plus each cfn-lint rule that produced a result."""
    from .rules import all_rules

    descriptors = {r.id: _rule_descriptor(r.id, r.shortdesc, r.description, r.source_url, r.severity) for r in all_rules()}
    for f in findings:
        descriptors.setdefault(f.rule, _rule_descriptor(f.rule, f.shortdesc, f.description, f.help_uri, f.severity))
    ids = sorted(descriptors)
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    results = []
    for f in findings:
        generated = _GENERATED.match(f.file)
        message = f.message
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(generated.group("file") if generated else f.file)}}
        if generated:
            message = f"{f.message} (in the {generated.group('what')} template, line {f.line}; see it with `mlmon generate`)"
        else:
            physical["region"] = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)}
        results.append({
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": SARIF_LEVELS.get(f.severity, "warning"),
            "message": {"text": message},
            "locations": [{"physicalLocation": physical}],
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mlmon", "version": __version__, "rules": [descriptors[i] for i in ids]}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(log, indent=1) + "\n"


def _uri(path: str) -> str:
    """A relative URI reference (forward slashes, spaces and the like percent-encoded)."""
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/:._-~")
