"""The one pipeline every command uses: text -> validated Spec -> built templates -> template text.

`load` is the validation phase (conversion, then the checks of core/validate.py); `generate` is
the pure build (no I/O) followed by the checks only a built template can answer (names taken
twice, CloudFormation's size limits: 500 resources, 200 outputs, 1,000,000 bytes per template),
with the template text it measured kept for the writer. The builder itself refuses nothing.
`validate`, `plan`, `deploy`, `lint` and `generate` all call `generate`, so they give the same
answer for the same spec, by construction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from troposphere import Template

from ..components import load_all
from ..errors import LimitError, Location, Problem, SpecError
from ..limits import MAX_TEMPLATE_BYTES
from ..serialize import dump_all, merged_text
from ..spec import parse, read_text, spec_environments
from ..spec.model import Spec
from .build import BuildResult, build_template
from .validate import limit_problems, spec_problems

__all__ = ["BuildResult", "generate", "generate_central", "load", "load_path", "load_spec", "parse_spec", "spec_environments", "validate"]


def load(text: str, file: str, env: str | None = None, base: Path | None = None) -> Spec:
    """Convert and check spec text for one environment (None: the base spec). Raises SpecError
    listing every problem with its `file:line:col`; `file` is only used in those locations, `base`
    is the folder a spec's `template:` is relative to (default: the folder of `file`)."""
    _not_a_template(text, file)
    kinds = load_all()
    spec = parse(text, file, kinds, env, base)
    problems, resolved = spec_problems(spec, kinds)
    if problems:
        raise SpecError(problems)
    return replace(spec, resolved=resolved)


_CFN_TEMPLATE = re.compile(r'^(?:Resources|AWSTemplateFormatVersion)[ \t]*:|^\s*"(?:Resources|AWSTemplateFormatVersion)"\s*:', re.M)
_SPEC_KEY = re.compile(r'^(?:solution|components)[ \t]*:|"(?:solution|components)"\s*:', re.M)


def _not_a_template(text: str, file: str) -> None:
    """A CloudFormation template given where a spec belongs: one error that says what to run,
    instead of every spec key it lacks."""
    if _CFN_TEMPLATE.search(text) and not _SPEC_KEY.search(text):
        raise SpecError([Problem(Location(file, 1, 1, "(file)"),
                                 f"this is a CloudFormation template, not an mlmon spec: write a spec that watches it with "
                                 f"`mlmon init --from-template {file} -o monitoring.yaml`, then give that spec")])


def load_path(path: Path, display: str | None = None, env: str | None = None) -> Spec:
    """`load` of a file; `display` names it in messages (default: the path as given)."""
    shown = display or str(path)
    return load(read_text(path, shown), shown, env, base=path.parent)


def generate(spec: Spec, split: bool | None = None, nested_ext: str = "yaml") -> BuildResult:
    """Build the templates of a loaded spec and write their text (`result.files`, in `nested_ext`:
    yaml or json). Raises SpecError for generated names taken twice (located at the component) and
    LimitError past a CloudFormation limit. `split=None` splits into nested stacks when one template
    would pass a limit (500 resources, or 1,000,000 bytes of text); `False` never splits."""
    result = _built(spec, split, nested_ext)
    main = f"template.{nested_ext}"
    if split is None and not result.nested and len(result.files[main].encode("utf-8")) > MAX_TEMPLATE_BYTES:
        result = _built(spec, True, nested_ext)
    problems = limit_problems(result, nested_ext)
    if problems:
        raise LimitError(problems[0])
    return result


def generate_central(spec: Spec) -> Template:
    """The central account's template of a spec with `organization:` (core/organization.py): built
    from the member template of the same spec, so it knows which alarm names page and for what."""
    from .. import naming
    from .organization import central_template

    if spec.organization is None:
        raise SpecError([Problem(Location(spec.source, 1, 1, "organization"),
                                 "--central needs an 'organization:' section (central_account, central_region, notifications)")])
    member = _built(spec, None, "yaml")
    scoped = replace(spec, solution=naming.scoped_solution(spec.solution, spec.environment, spec.name_suffix))
    return central_template(scoped, member.template, member.nested, member.owners)


def _built(spec: Spec, split: bool | None, fmt: str) -> BuildResult:
    app = spec.cfn.app if spec.cfn is not None else None
    if fmt == "json" and app is not None and app.non_finite:  # merged output copies them; JSON cannot
        raise SpecError(list(app.non_finite))
    result = build_template(spec, split=split, nested_ext=fmt)
    if result.problems:
        raise SpecError(result.problems)
    result.files = dump_all({f"template.{fmt}": result.template, **{f"stacks/{stem}.{fmt}": t for stem, t in result.nested.items()}},
                            fmt)
    if app is not None and app.text and not result.nested:  # merged output: the user's own text plus the monitoring
        kept = merged_text(app.text, app.data, result.template.to_dict(), fmt)
        result.files[f"template.{fmt}"] = kept if kept is not None else result.files[f"template.{fmt}"]
    return result


def validate(text: str, file: str, env: str | None = None, base: Path | None = None) -> tuple[Spec, BuildResult]:
    """Everything `generate` would refuse, found without writing anything: the spec and what
    `generate` built of it (its `needs_bucket` says whether a deploy needs --s3-bucket)."""
    spec = load(text, file, env, base)
    return spec, generate(spec)


# Names the tests and older callers use.
load_spec = load_path
parse_spec = load
