"""Lint a CloudFormation template: cfn-lint (as a library) plus the checks cfn-lint misses.

cfn-lint is imported here only, and only when a lint runs, because it is slow to import.
Findings are data with file:line:col so the CLI prints them in one parseable format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .limits import INLINE_TEMPLATE_BYTES, MAX_ALARM_ACTIONS, MAX_COMPOSITE_CHILDREN, MAX_RULE_TARGETS


@dataclass(frozen=True, order=True)
class Finding:
    """One lint result, printed as `file:line:col: rule: message`."""

    file: str
    line: int
    column: int
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def lint_template(text: str, file: str, regions: tuple[str, ...] = ("us-east-1",)) -> list[Finding]:
    """Run cfn-lint and mlmon's own checks on template text; return findings sorted by position."""
    from cfnlint.api import ManualArgs, lint
    from cfnlint.decode import decode_str

    findings = [
        Finding(file, m.linenumber, m.columnnumber, m.rule.id, m.rule.severity, m.message)
        for m in lint(text, config=ManualArgs(regions=list(regions)))
    ]
    template, _ = decode_str(text)
    if isinstance(template, dict):
        findings.extend(_mlmon_checks(template, text, file))
    return sorted(set(findings))


def _lint_job(job: tuple[str, str]) -> list[Finding]:
    return lint_template(job[1], job[0])


def lint_files(jobs: list[tuple[str, str]]) -> list[Finding]:
    """Lint (name, text) pairs; several templates are linted in parallel, one process per core."""
    if len(jobs) <= 1:
        return [f for job in jobs for f in _lint_job(job)]
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [f for findings in pool.map(_lint_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))) for f in findings]


def lint_asl(text: str, file: str) -> list[Finding]:
    """mlmon's ASL checks on a state machine definition file (JSON or YAML), at the line of each state."""
    from .asl import check_definition, load_asl

    definition = load_asl(text, file)
    root = _compose(text)
    return sorted(
        Finding(file, *_locate(root, f.path), f.rule, f.severity, f"{f.path}: {f.message}") for f in check_definition(definition)
    )


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


def null_paths(value: Any, path: str = "") -> list[str]:
    """JSON-pointer paths of null values: CloudFormation rejects "'null' values are not allowed in templates"."""
    if value is None:
        return [path or "/"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in null_paths(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in null_paths(v, f"{path}/{i}")]
    return []


def _mark(node: Any) -> tuple[int, int]:
    mark = getattr(node, "start_mark", None)
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _mlmon_checks(template: dict[str, Any], text: str, file: str) -> list[Finding]:
    """Limits AWS enforces at deploy time that cfn-lint 1.51 does not check, and ASL error handling
    (mlmon_cli/asl/check.py: Retry/Catch coverage, States.ALL placement, Next targets, reachability,
    retrier field types) in every state machine Definition written as a mapping."""
    findings: list[Finding] = []
    if len(text.encode("utf-8")) > INLINE_TEMPLATE_BYTES:
        findings.append(Finding(file, 1, 1, "MLM001", "informational",
                                f"template is {len(text.encode('utf-8'))} bytes, over the {INLINE_TEMPLATE_BYTES}-byte inline "
                                "limit: deploy with 'aws cloudformation deploy --s3-bucket BUCKET'"))
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return findings
    for name, resource in resources.items():
        for path in null_paths(resource, f"/Resources/{name}")[:5]:
            line, col = _mark(resource)
            findings.append(Finding(file, line, col, "MLM007", "error",
                                    f"{path} is null; CloudFormation rejects null values in templates"))
    for name, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        line, col = _mark(resource)
        if kind == "AWS::Events::Rule" and len(props.get("Targets") or []) > MAX_RULE_TARGETS:
            findings.append(Finding(file, line, col, "MLM002", "error",
                                    f"{name}: {len(props['Targets'])} targets; EventBridge allows {MAX_RULE_TARGETS} per rule"))
        if kind == "AWS::CloudWatch::CompositeAlarm":
            findings.extend(_composite_checks(name, props, file, line, col))
        if kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
                actions = props.get(key) or []
                if isinstance(actions, list) and len(actions) > MAX_ALARM_ACTIONS:
                    findings.append(Finding(file, line, col, "MLM003", "error",
                                            f"{name}: {len(actions)} {key}; CloudWatch allows {MAX_ALARM_ACTIONS}"))
        if kind == "AWS::StepFunctions::StateMachine" and isinstance(props.get("Definition"), dict):
            from .asl import check_definition

            findings.extend(Finding(file, line, col, f.rule, f.severity, f"{name}: Definition.{f.path}: {f.message}")
                            for f in check_definition(props["Definition"]))
        quiet = props.get("InsufficientDataActions") == [{"Ref": "AlarmHistoryTopic"}]  # mlmon's topic without subscribers
        if kind == "AWS::CloudWatch::Alarm" and props.get("InsufficientDataActions") and not quiet \
                and props.get("TreatMissingData") == "notBreaching":
            findings.append(Finding(file, line, col, "MLM004", "warning",
                                    f"{name}: InsufficientDataActions on a sparse metric (notBreaching) fire on quiet periods"))
    return findings


def _composite_checks(name: str, props: dict[str, Any], file: str, line: int, col: int) -> list[Finding]:
    rule = props.get("AlarmRule")
    if isinstance(rule, dict) and "Fn::Sub" in rule:
        rule = rule["Fn::Sub"] if isinstance(rule["Fn::Sub"], str) else rule["Fn::Sub"][0]
    findings = []
    if isinstance(rule, str):
        children = len(re.findall(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(", rule))
        if children > MAX_COMPOSITE_CHILDREN:
            findings.append(Finding(file, line, col, "MLM005", "error",
                                    f"{name}: rule names {children} alarms; a composite allows {MAX_COMPOSITE_CHILDREN}"))
    if props.get("InsufficientDataActions"):
        findings.append(Finding(file, line, col, "MLM006", "warning",
                                f"{name}: composites are INSUFFICIENT_DATA only right after creation, so these actions never run"))
    return findings
