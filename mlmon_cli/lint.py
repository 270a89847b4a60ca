"""Lint a CloudFormation template: cfn-lint (as a library) plus the checks cfn-lint misses.

cfn-lint is imported here only, and only when a lint runs, because it is slow to import.
Findings are data with file:line:col so the CLI prints them in one parseable format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import INLINE_TEMPLATE_BYTES
from .rules.template_rules import null_paths

__all__ = ["INLINE_TEMPLATE_BYTES", "Finding", "lint_asl", "lint_files", "lint_template", "null_paths"]


@dataclass(frozen=True, order=True)
class Finding:
    """One lint result, printed as `file:line:col: rule: message`; the rule's metadata rides along
    (not compared) for the JSON and SARIF formats."""

    file: str
    line: int
    column: int
    rule: str
    severity: str
    message: str
    path: tuple[Any, ...] = field(default=(), compare=False)
    shortdesc: str = field(default="", compare=False)
    description: str = field(default="", compare=False)
    help_uri: str = field(default="", compare=False)

    def __str__(self) -> str:
        from .errors import escape_text

        message = self.message.split('\n  in "<unicode string>"')[0]  # PyYAML's own location line: ours is in front
        return f"{escape_text(self.file)}:{self.line}:{self.column}: {self.rule}: {escape_text(message)}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def lint_template(text: str, file: str, regions: tuple[str, ...] = ("us-east-1",), ignore_checks: tuple[str, ...] = (),
                  base_dir: Path | None = None) -> list[Finding]:
    """Run cfn-lint and mlmon's rules on template text; return findings sorted by position.

    `ignore_checks` works as cfn-lint's (an entry ignores every rule ID it prefixes), and so does a
    resource's `Metadata: {cfn-lint: {config: {ignore_checks: [ID]}}}`, for mlmon's rules too.
    `base_dir` resolves SAM `DefinitionUri` files.
    """
    from cfnlint.api import ManualArgs, lint
    from cfnlint.decode import decode_str

    try:
        matches = lint(text, config=ManualArgs(regions=list(regions), ignore_checks=list(ignore_checks)))
    except Exception as exc:  # cfn-lint itself fails on some shapes (`Parameters: null`): say so, located
        return [Finding(file, 1, 1, "E0000", "error", f"cfn-lint cannot read this template ({type(exc).__name__}: {exc}); "
                        "check the shape of its top-level sections")]
    findings = [
        Finding(file, m.linenumber, m.columnnumber, m.rule.id, m.rule.severity, m.message, (),
                m.rule.shortdesc, m.rule.description, m.rule.source_url)
        for m in matches
    ]
    template, _ = decode_str(text)
    if isinstance(template, dict):
        from .rules import TemplateContext, run_rules

        ctx = TemplateContext(template, size=len(text.encode("utf-8")), base_dir=base_dir)
        for rule, hit in run_rules(ctx, ignore_checks):
            where, (line, col) = file, _locate_in_template(template, hit.path)
            if hit.detail:
                line, col = _locate_in_text(text, line, _end_line(template, hit.path), hit.detail) or (line, col)
            if hit.file:  # a SAM DefinitionUri file: the finding is reported at its line in that file
                where, (line, col) = hit.file, _locate(_compose(_read(hit.file)), hit.where)
            path = tuple(int(k) if isinstance(k, int) else str(k) for k in hit.path)  # plain types: pickled across processes
            findings.append(Finding(where, line, col, rule.id, rule.severity, hit.message, path,
                                    rule.shortdesc, rule.description, rule.source_url))
    return sorted(set(findings))


def _locate_in_template(template: Any, path: tuple[Any, ...]) -> tuple[int, int]:
    """Line and column of the deepest key of `path` (cfn-lint's decoded nodes carry marks), else 1:1."""
    best, node = (1, 1), template
    for key in path:
        if isinstance(node, dict):
            match = next((k for k in node if k == key), None)
            if match is None:
                break
            best = _mark(match) if getattr(match, "start_mark", None) else _mark(node[match])
            node = node[match]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            best = _mark(node) if getattr(node, "start_mark", None) else best
        else:
            break
    return best


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _end_line(template: Any, path: tuple[Any, ...]) -> int | None:
    """Last line (1-based) of the resource a path is in, when the decoded node knows it."""
    resource = template.get("Resources", {}).get(path[1]) if len(path) > 1 and isinstance(template.get("Resources"), dict) else None
    mark = getattr(resource, "end_mark", None)
    return mark.line + 1 if mark else None


def _locate_in_text(text: str, first_line: int, last_line: int | None, keys: tuple[Any, ...]) -> tuple[int, int] | None:
    """Line and column of `keys` (JSON object keys, searched in order) in a definition written as a
    block string inside the template, between `first_line` and `last_line`; None when not found."""
    import json

    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[:first_line - 1])
    end = sum(len(x) for x in lines[:last_line]) if last_line else len(text)
    pos, found = start, None
    for key in keys:
        if not isinstance(key, str):
            continue
        m = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, pos, end)
        if m is None:
            break
        pos = found = m.start()
    if found is None:
        return None
    line = text.count("\n", 0, found) + 1
    return line, found - (text.rfind("\n", 0, found) + 1) + 1


def _lint_job(job: tuple[str, str], ignore_checks: tuple[str, ...] = ()) -> list[Finding]:
    name, text = job
    base_dir = Path(name).parent if Path(name).is_file() else None
    return lint_template(text, name, ignore_checks=ignore_checks, base_dir=base_dir)


def lint_files(jobs: list[tuple[str, str]], ignore_checks: tuple[str, ...] = ()) -> list[Finding]:
    """Lint (name, text) pairs; several templates are linted in parallel, one process per core."""
    if len(jobs) <= 1:
        return [f for job in jobs for f in _lint_job(job, ignore_checks)]
    import functools
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(jobs), os.cpu_count() or 1)
    run = functools.partial(_lint_job, ignore_checks=ignore_checks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [f for findings in pool.map(run, jobs, chunksize=max(1, len(jobs) // (workers * 4))) for f in findings]


def lint_asl(text: str, file: str, ignore_checks: tuple[str, ...] = ()) -> list[Finding]:
    """mlmon's ASL checks on a state machine definition file (JSON or YAML), at the line of each state."""
    from .asl import check_definition, load_asl
    from .rules import get_rule, is_ignored

    definition = load_asl(text, file)
    root = _compose(text)
    findings = []
    for f in check_definition(definition):
        rule = get_rule(f.rule)
        if is_ignored(f.rule, ignore_checks) or rule is None:
            continue
        findings.append(Finding(file, *_locate(root, f.path), f.rule, f.severity, f"{f.path}: {f.message}", (),
                                rule.shortdesc, rule.description, rule.source_url))
    return sorted(findings)


def _compose(text: str) -> Any:
    """Node tree with line marks (JSON is read as YAML); None when it cannot be composed."""
    import yaml

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _locate(node: Any, path: str) -> tuple[int, int]:
    """Line and column of the deepest key of `path` (e.g. `States.Train.Catch[0].Next`) found, else 1:1.

    State names may contain '.' or '[', so at each mapping the longest key that prefixes the rest wins.
    """
    import yaml

    best, rest = (1, 1), path
    while rest and node is not None:
        if isinstance(node, yaml.MappingNode):
            keys = [(str(k.value), k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
            fits = [kv for kv in keys if rest == kv[0] or rest.startswith((kv[0] + ".", kv[0] + "["))]
            if not fits:
                break
            name, key, node = max(fits, key=lambda kv: len(kv[0]))
            best, rest = _mark(key), rest[len(name):].removeprefix(".")
        elif isinstance(node, yaml.SequenceNode) and (m := re.match(r"\[(\d+)\]\.?", rest)) and int(m.group(1)) < len(node.value):
            node = node.value[int(m.group(1))]
            best, rest = _mark(node), rest[m.end():]
        else:
            break
    return best


def _mark(node: Any) -> tuple[int, int]:
    mark = getattr(node, "start_mark", None)
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)
