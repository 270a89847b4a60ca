"""Spec reading: text -> located node tree -> (environment overlay) -> validated frozen model.

The lowest layer above `errors`/`limits`: it knows nothing of component kinds beyond what it is
given (`kinds`), so `core.pipeline` is where a spec is loaded with the kind registry.
"""

from __future__ import annotations

from typing import Any, Mapping

from .convert import convert_spec
from .environments import apply_environment, environment_names
from .model import Spec
from .nodes import compose, read_text


def parse(text: str, file: str, kinds: Mapping[str, Any], env: str | None = None) -> Spec:
    """Convert spec text for one environment (None: the base spec); `file` is only used in error locations."""
    root = compose(text, file)
    return convert_spec(apply_environment(root, env, file), file, kinds, env)


def spec_environments(text: str, file: str) -> list[str]:
    """The environment names a spec defines (for validating every one of them)."""
    return environment_names(compose(text, file))


__all__ = ["Spec", "parse", "read_text", "spec_environments"]
