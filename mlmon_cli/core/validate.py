"""The checks that need resolved settings or derived names, run right after conversion.

Conversion (spec/convert.py) checks each value where it is written; these checks combine values
(an override with the solution defaults, a name with the logical ID it becomes) and locate the
problem through `ComponentSpec.locations`. The dry build in `core.pipeline.validate` catches the
rest (collisions among generated names), so `validate` and `generate` refuse the same specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import naming
from ..components.settings import resolve_settings, settings_problems
from ..errors import Location, Problem
from ..spec.model import AlarmOverride, ComponentSpec, Spec

_NO_OVERRIDE = AlarmOverride()


def spec_problems(spec: Spec, kinds: Mapping[str, Any]) -> list[Problem]:
    """Every problem of a converted spec that its values alone do not show."""
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for comp in spec.components:
        logical = naming.logical_id(comp.name)
        if logical in ids:
            problems.append(Problem(comp.locate("name"), f"'{comp.name}' and '{ids[logical]}' give the same CloudFormation "
                                                         f"logical ID '{logical}'; rename one"))
        ids.setdefault(logical, comp.name)
        problems.extend(_alarm_problems(spec, comp, kinds[comp.kind]()))
    return problems


def _alarm_problems(spec: Spec, comp: ComponentSpec, kind: Any) -> list[Problem]:
    problems: list[Problem] = []
    for alarm in kind.alarms:
        settings = resolve_settings(kind, comp.options, alarm, comp.alarms.get(alarm.key, _NO_OVERRIDE), spec.defaults)
        at = _alarm_location(comp, alarm.key)
        problems.extend(Problem(at, message) for message in settings_problems(settings, alarm))
    return problems


def _alarm_location(comp: ComponentSpec, key: str) -> Location:
    """The alarm's override if written, else the component's `alarms:` or the component; the path names the alarm."""
    at = comp.locations.get(f"alarms.{key}") or comp.locations.get("alarms") or comp.location
    return replace(at, path=f"{comp.location.path}.alarms.{key}")
