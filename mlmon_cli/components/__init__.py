"""Registry of component kinds: one module per kind, found by walking this package.

Adding a kind is one module with `@component("kind")` plus one golden case; the converter,
core and CLI find it here. `grep -r '@component("' mlmon_cli` lists every kind.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

from .base import Component

REGISTRY: dict[str, type[Component]] = {}
_loaded = False


def component(kind: str) -> Callable[[type[Component]], type[Component]]:
    """Class decorator registering a component kind; refuses duplicates."""

    def register(cls: type[Component]) -> type[Component]:
        if kind in REGISTRY:
            raise RuntimeError(f"component kind {kind!r} registered twice")
        cls.kind = kind
        REGISTRY[kind] = cls
        return cls

    return register


def load_all() -> dict[str, type[Component]]:
    """Import every sibling module (not starting with `_`, not `base`) once; return the registry."""
    global _loaded
    if not _loaded:  # not `if not REGISTRY`: importing one kind module directly registers it alone
        _loaded = True
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_") and info.name != "base":
                importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY
