"""Spec loading: file -> located node tree -> (environment overlay) -> validated frozen model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .cfn_values import resolve_cfn_values
from .convert import convert_spec
from .environments import apply_environment, environment_names
from .model import Spec
from .nodes import compose, read_text


def load_spec(path: Path, display: str | None = None, env: str | None = None) -> Spec:
    """Read and validate a spec file. Raises SpecError listing every problem with its location."""
    shown = display or str(path)
    return parse_spec(read_text(path, shown), shown, env, base=path.parent)


def parse_spec(text: str, file: str, env: str | None = None, base: Path | None = None) -> Spec:
    """Validate spec text for one environment (None: the base spec); `file` is only used in error locations,
    `base` is the folder a spec's `template:` path is relative to (default: the folder of `file`)."""
    root = compose(text, file)
    root, cfn = resolve_cfn_values(apply_environment(root, env, file), file, base)
    spec = convert_spec(root, file, env)
    return replace(spec, cfn=cfn) if cfn is not None else spec


def spec_environments(text: str, file: str) -> list[str]:
    """The environment names a spec defines (for validating every one of them)."""
    return environment_names(compose(text, file))


__all__ = ["Spec", "load_spec", "parse_spec", "spec_environments"]
