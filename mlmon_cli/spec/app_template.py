"""Read the user's own CloudFormation or SAM template (YAML with short-form tags, or JSON).

cfn-lint's decoder keeps a line/column mark on every node, so a template that does not parse,
a missing resource or a name mlmon needs that the template already uses is a located problem.
The data returned is plain (dicts, lists, str, numbers): what merged output writes back.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import Location, Problem, SpecError
from .nodes import FILE, read_text

SECTIONS = ("Parameters", "Conditions", "Resources", "Outputs", "Mappings")
PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId", "AWS::URLSuffix")
_TOKEN = re.compile(r"\$\{([^}!][^}]*)\}")


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else {}: a user's template may hold any shape anywhere."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Resource:
    """A typed view of one entry of the user's Resources: whatever shape it has, the fields mlmon
    reads are of the types it expects, and `problem` says why the entry is not a usable resource."""

    logical: str
    type: str | None  # None when Type is missing or not a string
    properties: dict[str, Any]  # {} when Properties is missing or not a mapping
    condition: str | None  # None when there is no Condition or it is not a name
    problem: str | None = None

    @classmethod
    def of(cls, logical: str, entry: Any) -> Resource:
        if not isinstance(entry, dict):
            return cls(logical, None, {}, None, "not a resource: expected a mapping with 'Type'")
        rtype = entry.get("Type") if isinstance(entry.get("Type"), str) else None
        props = entry.get("Properties")
        condition = entry.get("Condition") if isinstance(entry.get("Condition"), str) else None
        problem = None
        if rtype is None:
            problem = "'Type' is missing or not a string"
        elif props is not None and not isinstance(props, dict):
            problem = "'Properties' is not a mapping"
        elif "Condition" in entry and condition is None:
            problem = "'Condition' is not the name of a condition"
        return cls(logical, rtype, mapping(props), condition, problem)


@dataclass(frozen=True)
class AppTemplate:
    """A parsed application template: plain data plus where each top-level entry is written."""

    file: str
    data: dict[str, Any]
    marks: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (section, key) -> (line, col)
    text: str = field(default="", repr=False, compare=False)  # as written: merged output keeps it (serialize.merged_text)
    non_finite: tuple[Problem, ...] = ()  # YAML's .inf / .nan values: JSON (so --format json) has no spelling for them

    @property
    def resources(self) -> dict[str, Any]:
        return mapping(self.data.get("Resources"))

    def resource(self, logical: Any) -> Resource | None:
        """The typed view of a resource, or None when there is no resource of that logical ID."""
        if not isinstance(logical, str) or logical not in self.resources:
            return None
        return self._checked(Resource.of(logical, self.resources[logical]))

    def views(self) -> list[Resource]:
        return [self._checked(Resource.of(str(k), v)) for k, v in self.resources.items()]

    def _checked(self, view: Resource) -> Resource:
        """A Condition that Conditions does not define would be copied onto mlmon's resources."""
        if view.problem is None and view.condition is not None and view.condition not in mapping(self.data.get("Conditions")):
            return replace(view, problem=f"its Condition '{view.condition}' is not defined in Conditions")
        return view

    def unresolved(self, text: str) -> list[str]:
        """The `${...}` of Fn::Sub text this template cannot resolve: no such parameter, pseudo
        parameter or resource (an attribute needs a resource), or a `${` that never closes."""
        parameters = mapping(self.data.get("Parameters"))
        bad = [t for t in _TOKEN.findall(text) if not (
            t in PSEUDO_PARAMETERS or t in parameters or t in self.resources
            or ("." in t and t.split(".", 1)[0] in self.resources))]
        if "${" in _TOKEN.sub("", text).replace("${!", ""):
            bad.append("${")
        return bad

    def location(self, section: str, key: str, path: str = "") -> Location:
        line, col = self.marks.get((section, key), (1, 1))
        return Location(self.file, line, col, path or f"{section}.{key}")


def load_app_template(path: Path, display: str) -> AppTemplate:
    """Read and parse a template file. Raises SpecError (located) when it cannot be read or parsed."""
    return parse_app_template(read_text(path, display), display)


def parse_app_template(text: str, file: str) -> AppTemplate:
    """Parse template text. Raises SpecError for syntax errors or a template without Resources."""
    from cfnlint.decode import decode_str  # lazily: only specs that name a template need cfn-lint's decoder

    data, matches = decode_str(text)
    at = _editor_positions(text)
    if matches:
        problems = [Problem(Location(file, *at(m.linenumber, m.columnnumber), FILE),
                            f"template does not parse: {m.message}") for m in matches]
        raise SpecError(problems)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict) or not data["Resources"]:
        raise SpecError([Problem(Location(file, 1, 1, FILE), "not a CloudFormation template: no 'Resources' mapping")])
    problems = []
    for key in data:
        if key in SECTIONS and data[key] is not None and not isinstance(data[key], dict):
            mark = getattr(key, "start_mark", None)
            line, col = at(mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problems.append(Problem(Location(file, line, col, str(key)),
                                    f"expected a mapping of names to entries, not {_shape(data[key])}"))
    for logical, resource in data["Resources"].items():  # CloudFormation refuses a resource without a Type
        if isinstance(resource, dict) and "Type" not in resource:  # a Type of the wrong shape is listed by init instead
            mark = getattr(logical, "start_mark", None)
            line, col = at(mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problems.append(Problem(Location(file, line, col, f"Resources.{logical}"),
                                    "a resource needs a 'Type' (e.g. AWS::Lambda::Function); CloudFormation refuses it without one"))
    if problems:
        raise SpecError(problems)
    marks: dict[tuple[str, str], tuple[int, int]] = {}
    for section in SECTIONS:
        entries = data.get(section)
        if isinstance(entries, dict):
            for key in entries:
                mark = getattr(key, "start_mark", None)
                if mark is not None:
                    marks[(section, str(key))] = at(mark.line + 1, mark.column + 1)
    return AppTemplate(file, json.loads(json.dumps(data, default=str)), marks, text, tuple(_non_finite(data, "", file, at)))


def _non_finite(value: Any, path: str, file: str, at: Callable[[int, int], tuple[int, int]],
                mark: Any = None) -> list[Problem]:
    """Every YAML `.inf` / `-.inf` / `.nan` of the template, at its key (the decoder marks no
    numbers; a list item at its list). A YAML output writes them back as YAML spells them; JSON has
    no Infinity or NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        line, col = at(mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        spelled = ".nan" if value != value else (".inf" if value > 0 else "-.inf")
        return [Problem(Location(file, line, col, path),
                        f"must be a finite number in a JSON template, got {spelled} (JSON has no Infinity or NaN)")]
    found: list[Problem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _non_finite(item, f"{path}.{key}" if path else str(key), file, at, getattr(key, "start_mark", mark))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _non_finite(item, f"{path}[{i}]", file, at, getattr(value, "start_mark", mark))
    return found


def _shape(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"the value {json.dumps(value, default=str)[:40]}"


_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_EDITOR_BREAK = re.compile("\r\n|[\r\n]")


def _editor_positions(text: str) -> Callable[[int, int], tuple[int, int]]:
    """(line, col) as the YAML parser counts them -> as an editor does: YAML also breaks lines at
    NEL, LS and PS, and reports an error at the end of a file one line past its last."""
    starts = [0] + [m.end() for m in _YAML_BREAK.finditer(text)]
    editor = [m.end() for m in _EDITOR_BREAK.finditer(text)]

    def at(line: int, col: int) -> tuple[int, int]:
        offset = len(text) if line > len(starts) else min(starts[max(line, 1) - 1] + max(col, 1) - 1, len(text))
        if offset == len(text) and text.endswith(("\n", "\r")) and len(text) > 1:
            offset -= 2 if text.endswith("\r\n") else 1  # the end of the last line, not the empty one after it
        before = bisect.bisect_right(editor, offset)  # line breaks that end at or before the offset
        return before + 1, offset - (editor[before - 1] if before else 0) + 1

    return at
