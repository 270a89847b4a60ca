"""The checks that need resolved settings or derived names, run right after conversion.

Conversion (spec/convert.py) checks each value where it is written; these checks combine values
(an override with the solution defaults, a name with the logical ID it becomes) and locate the
problem through `ComponentSpec.locations`. `claim_problems` and `limit_problems` answer what only a
built template shows (names taken twice, CloudFormation's size limits); `core.pipeline.generate`
runs them for every command, so `validate`, `plan`, `deploy`, `lint` and `generate` refuse the same specs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .. import naming
from ..components.settings import AlarmSettings, resolve_settings, settings_problems
from ..errors import Location, Problem
from ..limits import MAX_OUTPUTS, MAX_RESOURCES, MAX_TEMPLATE_BYTES
from ..spec.model import AlarmOverride, ComponentSpec, Spec

_NO_OVERRIDE = AlarmOverride()


def spec_problems(spec: Spec, kinds: Mapping[str, Any]) -> tuple[list[Problem], dict[str, dict[str, AlarmSettings]]]:
    """Every problem of a converted spec that its values alone do not show, and each component's
    resolved alarm settings (component name -> alarm key -> settings) for the build to use."""
    problems: list[Problem] = []
    resolved: dict[str, dict[str, AlarmSettings]] = {}
    ids: dict[str, str] = {}
    for comp in spec.components:
        logical = naming.logical_id(comp.name)
        if logical in ids:
            problems.append(Problem(comp.locate("name"), f"'{comp.name}' and '{ids[logical]}' give the same CloudFormation "
                                                         f"logical ID '{logical}'; rename one"))
        ids.setdefault(logical, comp.name)
        kind = kinds[comp.kind]()
        settings = resolved[comp.name] = {}
        # Alarms a kind derives from its options (Model Monitor, custom, staleness) are checked where
        # those options are read (window, threshold); their numbers are final, so only these need it.
        problems.extend(_alarm_problems(spec, comp, kind, settings))
    return problems, resolved


def _alarm_problems(spec: Spec, comp: ComponentSpec, kind: Any, resolved: dict[str, AlarmSettings]) -> list[Problem]:
    problems: list[Problem] = []
    for alarm in kind.alarms:
        settings = resolved[alarm.key] = resolve_settings(kind, comp.options, alarm, comp.alarms.get(alarm.key, _NO_OVERRIDE),
                                                          spec.defaults)
        messages = settings_problems(settings, alarm)  # none for a disabled alarm
        if messages:
            at = _alarm_location(comp, alarm.key)
            problems.extend(Problem(at, message) for message in messages)
    return problems


def claim_problems(reserved: Mapping[tuple[str, str], str],
                   claims: Sequence[tuple[ComponentSpec, Sequence[tuple[str, str]]]]) -> list[Problem]:
    """Logical IDs and alarm or rule names the built components take twice, located at the component.

    `reserved`: (space, name) -> who took it before the components (mlmon's own resources, the
    solution composites). Components are checked in spec order; a component's first taken name
    is its problem (as AWS would refuse its stack at the first one), and the names it took before
    it stay taken, so a later component colliding with them names it.
    """
    taken = dict(reserved)
    problems = []
    for comp, names in claims:
        owner = f"component '{comp.name}'"
        for space, name in names:
            other = taken.get((space, name))
            if other is None:
                taken[(space, name)] = owner
                continue
            if other != owner:
                problems.append(Problem(comp.locate("name"), f"{space} '{name}' is also used by {other}; rename the component"))
            else:
                problems.append(Problem(comp.location, f"two resources of this component would both get the {space} '{name}' "
                                                       "(logical IDs keep only letters and digits, so e.g. 'A-1' and 'A_1' are "
                                                       "the same); rename one"))
            break
    return problems


def _alarm_location(comp: ComponentSpec, key: str) -> Location:
    """The alarm's override if written, else the component's `alarms:` or the component; the path names the alarm."""
    at = comp.locations.get(f"alarms.{key}") or comp.locations.get("alarms") or comp.location
    return replace(at, path=f"{comp.location.path}.alarms.{key}")


def limit_problems(result: Any, fmt: str = "yaml") -> list[str]:
    """CloudFormation's per-template limits on a built result and its text (`result.files`): 500
    resources and 200 outputs per template, 1,000,000 bytes of template body (from S3)."""
    problems = []
    templates = [(f"template.{fmt}", "the parent template" if result.nested else "the template", result.template),
                 *((f"stacks/{stem}.{fmt}", f"nested stack {stem}", t) for stem, t in result.nested.items())]
    for _, what, t in templates:
        if len(t.resources) > MAX_RESOURCES:
            problems.append(f"{what} would have {len(t.resources)} resources; CloudFormation allows {MAX_RESOURCES} per template")
        elif len(t.outputs) > MAX_OUTPUTS:
            problems.append(f"{what} would have {len(t.outputs)} outputs; CloudFormation allows {MAX_OUTPUTS} per template")
    for name, _, _ in templates:
        size = len(result.files[name].encode("utf-8")) if name in result.files else 0
        if size > MAX_TEMPLATE_BYTES:
            problems.append(f"{name} would be {size} bytes; CloudFormation allows {MAX_TEMPLATE_BYTES} bytes")
    return problems
