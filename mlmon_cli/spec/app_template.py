"""Read the user's own CloudFormation or SAM template (YAML with short-form tags, or JSON).

cfn-lint's decoder keeps a line/column mark on every node, so a template that does not parse,
a missing resource or a name mlmon needs that the template already uses is a located problem.
The data returned is plain (dicts, lists, str, numbers): what merged output writes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location, Problem, SpecError
from .nodes import FILE, read_text

SECTIONS = ("Parameters", "Conditions", "Resources", "Outputs", "Mappings")


@dataclass(frozen=True)
class AppTemplate:
    """A parsed application template: plain data plus where each top-level entry is written."""

    file: str
    data: dict[str, Any]
    marks: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (section, key) -> (line, col)

    @property
    def resources(self) -> dict[str, Any]:
        return self.data.get("Resources") or {}

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
    if matches:
        problems = [Problem(Location(file, max(m.linenumber, 1), max(m.columnnumber, 1), FILE),
                            f"template does not parse: {m.message}") for m in matches]
        raise SpecError(problems)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict) or not data["Resources"]:
        raise SpecError([Problem(Location(file, 1, 1, FILE), "not a CloudFormation template: no 'Resources' mapping")])
    marks: dict[tuple[str, str], tuple[int, int]] = {}
    for section in SECTIONS:
        entries = data.get(section)
        if isinstance(entries, dict):
            for key in entries:
                mark = getattr(key, "start_mark", None)
                if mark is not None:
                    marks[(section, str(key))] = (mark.line + 1, mark.column + 1)
    return AppTemplate(file, json.loads(json.dumps(data, default=str)), marks)
