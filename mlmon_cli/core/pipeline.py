"""The one pipeline every command uses: text -> validated Spec -> built templates.

`load` is the validation phase (conversion, then the checks of core/validate.py); `generate` is
the pure build (no I/O). `validate` runs both and keeps nothing, so a spec `mlmon validate`
accepts is one `mlmon generate` and `mlmon lint` accept, by construction.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from troposphere import Template

from ..components import load_all
from ..errors import Location, Problem, SpecError
from ..spec import parse, read_text, spec_environments
from ..spec.model import Spec
from .build import BuildResult, build_template
from .validate import spec_problems

__all__ = ["BuildResult", "generate", "generate_central", "load", "load_path", "load_spec", "parse_spec", "spec_environments", "validate"]


def load(text: str, file: str, env: str | None = None, base: Path | None = None) -> Spec:
    """Convert and check spec text for one environment (None: the base spec). Raises SpecError
    listing every problem with its `file:line:col`; `file` is only used in those locations, `base`
    is the folder a spec's `template:` is relative to (default: the folder of `file`)."""
    kinds = load_all()
    spec = parse(text, file, kinds, env, base)
    problems = spec_problems(spec, kinds)
    if problems:
        raise SpecError(problems)
    return spec


def load_path(path: Path, display: str | None = None, env: str | None = None) -> Spec:
    """`load` of a file; `display` names it in messages (default: the path as given)."""
    shown = display or str(path)
    return load(read_text(path, shown), shown, env, base=path.parent)


def generate(spec: Spec, split: bool | None = None, nested_ext: str = "yaml") -> BuildResult:
    """Build the templates of a loaded spec (pure). Raises SpecError for generated names that
    collide (located at the component) and LimitError past a CloudFormation limit."""
    return build_template(spec, split=split, nested_ext=nested_ext)


def generate_central(spec: Spec) -> Template:
    """The central account's template of a spec with `organization:` (core/organization.py): built
    from the member template of the same spec, so it knows which alarm names page and for what."""
    from .. import naming
    from .organization import central_template

    if spec.organization is None:
        raise SpecError([Problem(Location(spec.source, 1, 1, "organization"),
                                 "--central needs an 'organization:' section (central_account, central_region, notifications)")])
    member = build_template(spec)
    scoped = replace(spec, solution=naming.scoped_solution(spec.solution, spec.environment, spec.name_suffix))
    return central_template(scoped, member.template, member.nested, member.owners)


def validate(text: str, file: str, env: str | None = None, base: Path | None = None) -> Spec:
    """Everything `generate` would refuse, found without writing anything."""
    spec = load(text, file, env, base)
    generate(spec)
    return spec


# Names the tests and older callers use.
load_spec = load_path
parse_spec = load
