"""Spec loading: file -> located node tree -> validated frozen model."""

from __future__ import annotations

from pathlib import Path

from .convert import convert_spec
from .model import Spec
from .nodes import compose, read_text


def load_spec(path: Path, display: str | None = None) -> Spec:
    """Read and validate a spec file. Raises SpecError listing every problem with its location."""
    shown = display or str(path)
    return parse_spec(read_text(path, shown), shown)


def parse_spec(text: str, file: str) -> Spec:
    """Validate spec text; `file` is only used in error locations."""
    return convert_spec(compose(text, file), file)


__all__ = ["Spec", "load_spec", "parse_spec"]
