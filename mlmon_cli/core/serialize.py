"""Template text: deterministic JSON or YAML from the same dict.

YAML is written by PyYAML (C dumper when available) from the template's dict: troposphere's own
YAML path goes through cfn-flip and is much slower on large templates.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

try:
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # PyYAML built without libyaml
    _Dumper = yaml.SafeDumper


class _TemplateDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Block style, multi-line strings as literal blocks; never aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\n")) and "\t" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_TemplateDumper.add_representer(str, _str)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_TemplateDumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=120)


def dump(data: dict[str, Any], fmt: str) -> str:
    return to_json(data) if fmt == "json" else to_yaml(data)
