"""Every logical ID comes from naming.py and every limit is defined once, in limits.py.

Read from the source (like tests/test_layers.py), so a new module that spells `"AlertsTopic"`, builds
a logical ID with an f-string or redefines a limit fails here, not in a reviewer's head.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from mlmon_cli import limits, naming

PACKAGE = Path(__file__).resolve().parent.parent / "mlmon_cli"
OWN = {PACKAGE / "naming.py", PACKAGE / "limits.py"}
# naming.py's well-known logical IDs, output and parameter names.
WELL_KNOWN = {value for key, value in vars(naming).items()
              if key.isupper() and isinstance(value, str) and key.endswith(("_ID", "_OUTPUT", "_PARAMETER", "_SUBSTITUTION"))}
LIMITS = {key for key, value in vars(limits).items() if key.isupper() and isinstance(value, int)}
# Values that are AWS limits when they appear as numbers (the description and name lengths).
LIMIT_NUMBERS = {1024, 1_000_000, 51_200}
# What a logical ID is the first argument of: troposphere's Output and Parameter, mlmon's AlarmRef, and
# every troposphere resource class (imported by name from a troposphere module).
ID_CALLS = {"Output", "Parameter", "AlarmRef", "Ref", "GetAtt"}
ID_VARIABLE = re.compile(r"logical|\w*_logical|\w*_id|[A-Z_]*_ID")  # names that hold a logical ID


def _troposphere_resources(tree: ast.Module) -> set[str]:
    from troposphere import AWSObject

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("troposphere"):
            module = importlib.import_module(node.module or "troposphere")
            found |= {a.asname or a.name for a in node.names
                      if isinstance(getattr(module, a.name, None), type) and issubclass(getattr(module, a.name), AWSObject)}
    return found


def _id_text(value: ast.expr) -> bool:
    """An f-string, or a literal that reads as a logical ID (letters and digits, capitalised)."""
    return isinstance(value, ast.JoinedStr) or (
        isinstance(value, ast.Constant) and isinstance(value.value, str) and re.fullmatch(r"[A-Z][A-Za-z0-9]*", value.value) is not None)


def violations(source: str, file: str) -> list[str]:
    """Well-known IDs spelled out, logical IDs written as literals or f-strings, limits redefined or written as numbers."""
    tree = ast.parse(source)
    calls = ID_CALLS | _troposphere_resources(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{file}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WELL_KNOWN:
            found.append(f"{where}: '{node.value}' is naming.py's; use its constant")
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value in LIMIT_NUMBERS:
            found.append(f"{where}: {node.value} is a limit; use limits.py's constant")
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str) and "::" not in first.value
            if name in calls and (literal or isinstance(first, ast.JoinedStr)):
                found.append(f"{where}: {name}({ast.unparse(first)}): derive the logical ID in naming.py")
        elif isinstance(node, ast.Assign) and _id_text(node.value) and any(
                isinstance(t, ast.Name) and ID_VARIABLE.fullmatch(t.id) for t in node.targets):
            found.append(f"{where}: {ast.unparse(node)}: derive the logical ID in naming.py")
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id in LIMITS and not isinstance(node.value, ast.Name | ast.Attribute):
                found.append(f"{file}:{node.lineno}: {target.id} is defined in limits.py; import it")
    return found


def test_ids_names_and_limits_come_from_naming_and_limits() -> None:
    found = [v for path in sorted(PACKAGE.rglob("*.py")) if path not in OWN
             for v in violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))]
    assert found == []


@pytest.mark.parametrize("source, expected", [
    ('t.add_output(Output("AlertTopicArn", Value=x))', "'AlertTopicArn' is naming.py's"),
    ('from troposphere.cloudwatch import Alarm\nAlarm(f"{name}Alarm", AlarmName=n)', 'Alarm(f\'{name}Alarm\')'),
    ('ref = Ref("AlarmHistoryTopic")', "'AlarmHistoryTopic' is naming.py's"),
    ('GetAtt("SomeKey", "Arn")', 'GetAtt(\'SomeKey\')'),
    ('text = description[:1024]', "1024 is a limit"),
    ("MAX_INT_DIGITS = 30", "MAX_INT_DIGITS is defined in limits.py"),
    ('logical = f"Stack{label}Composite"', "derive the logical ID in naming.py"),
    ('KEY_ID = "MyKey"', "derive the logical ID in naming.py"),
])
def test_the_checker_finds_each_kind_of_violation(source: str, expected: str) -> None:
    """The check can fail: each way of bypassing naming.py or limits.py is reported."""
    found = violations(source, "m.py")
    assert found and all(f.startswith("m.py:") for f in found) and any(expected in f for f in found), found


def test_the_checker_accepts_derived_ids_and_pseudo_parameters() -> None:
    source = ('from troposphere.cloudwatch import Alarm\nAlarm(naming.alarm_id(c, t, s))\nRef("AWS::Region")\n'
              "from ..limits import MAX_INT_DIGITS\nMAX_BYTES = limits.MAX_ASL_BYTES\n")
    assert violations(source, "m.py") == []
