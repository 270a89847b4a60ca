"""Registry of component kinds: one module per kind, found by walking this package.

Adding a kind is one module with `@component("kind")` plus one golden case; the converter,
core, CLI and the tests' tables find it here. `grep -r '@component("' mlmon_cli` lists every
built-in kind. Kinds kept in another package are loaded too, from the `mlmon.kinds` entry-point
group or the `MLMON_KIND_MODULES` environment variable (comma-separated module names).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from importlib.metadata import entry_points

from ..render import add_template
from .base import Component

REGISTRY: dict[str, type[Component]] = {}
_loaded = False


def component(kind: str) -> Callable[[type[Component]], type[Component]]:
    """Class decorator registering a component kind; refuses duplicates."""

    def register(cls: type[Component]) -> type[Component]:
        if kind in REGISTRY:
            raise RuntimeError(f"component kind {kind!r} registered twice")
        cls.kind = kind
        for name, text in cls.messages.items():
            add_template(f"events/{name}", text)
        REGISTRY[kind] = cls
        return cls

    return register


def load_all() -> dict[str, type[Component]]:
    """Import every sibling module (not starting with `_`, not `base`) once; return the registry."""
    global _loaded
    if not _loaded:  # not `if not REGISTRY`: importing one kind module directly registers it alone
        _loaded = True
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_") and info.name not in ("base", "settings"):
                importlib.import_module(f"{__name__}.{info.name}")
        for module in _plugin_modules():
            importlib.import_module(module)
    return REGISTRY


def _plugin_modules() -> list[str]:
    named = [m.strip() for m in os.environ.get("MLMON_KIND_MODULES", "").split(",") if m.strip()]
    return named + sorted(ep.value for ep in entry_points(group="mlmon.kinds"))


def builtin_kinds() -> dict[str, type[Component]]:
    """The kinds shipped in this package (the README documents these, not a user's plugins)."""
    return {k: v for k, v in load_all().items() if v.__module__.startswith(__name__ + ".")}
