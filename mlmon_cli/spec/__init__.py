"""Spec reading: text -> located node tree -> (environment overlay) -> validated frozen model.

The lowest layer above `errors`/`limits`: it knows nothing of component kinds beyond what it is
given (`kinds`), so `core.pipeline` is where a spec is loaded with the kind registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .cfn_values import resolve_cfn_values
from .convert import convert_spec
from .environments import apply_environment, environment_names
from .model import Spec
from .nodes import compose, read_text


def parse(text: str, file: str, kinds: Mapping[str, Any], env: str | None = None, base: Path | None = None) -> Spec:
    """Convert spec text for one environment (None: the base spec); `file` is only used in error locations,
    `base` is the folder a spec's `template:` path is relative to (default: the folder of `file`)."""
    root = compose(text, file)
    root, cfn, problems = resolve_cfn_values(apply_environment(root, env, file), file, kinds, base)
    in_template = [p for p in problems if p.location.file != file]
    if in_template:  # the template did not load: problems of the spec that follow from it would be guesswork
        raise SpecError(sorted(in_template, key=lambda p: (p.location.file, p.location.line, p.location.column)))
    try:
        spec = convert_spec(root, file, kinds, env, parameters=set(cfn.parameters) if cfn is not None else set())
    except SpecError as exc:
        if not problems:
            raise
        problems = sorted(problems + exc.problems, key=lambda p: (p.location.file, p.location.line, p.location.column))
    if problems:
        raise SpecError(problems)
    return replace(spec, cfn=cfn) if cfn is not None else spec


def spec_environments(text: str, file: str) -> list[str]:
    """The environment names a spec defines (for validating every one of them)."""
    return environment_names(compose(text, file))


__all__ = ["Spec", "parse", "read_text", "spec_environments"]
