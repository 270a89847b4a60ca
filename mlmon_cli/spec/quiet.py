"""`notifications.quiet_windows`: a list of maintenance windows, checked with located problems."""

from __future__ import annotations

import re
from typing import Any, Protocol

import yaml

from .. import limits

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")


class Window(Protocol):
    """What this module reads of spec.model.QuietWindow (which imports this module)."""

    @property
    def name(self) -> str: ...
    @property
    def schedule(self) -> str: ...
    @property
    def duration(self) -> str: ...


def parse_quiet_windows(window_cls: type[Window], r: Any, node: yaml.Node, path: str) -> Any:
    """The windows as a tuple of `window` (spec.model.QuietWindow), or None after recording the
    problems on `r` (a spec.convert.SpecReader; passed in, so this module imports neither)."""
    if not isinstance(node, yaml.SequenceNode):
        r.error(node, path, "expected a list of windows ({name, schedule, duration})")
        return None
    windows, names, before = [], set(), len(r.problems)
    for index, item in enumerate(node.value):
        where = f"{path}[{index}]"
        window = r.typed(item, where, window_cls)
        if not isinstance(window, window_cls):
            continue
        pairs = {k.value: v for k, v in item.value}
        checks = (("name", "" if NAME.match(window.name) else
                   "must start with a letter and use only letters, digits and '-' (at most 40 characters)"),
                  ("schedule", limits.mute_schedule_problem(window.schedule)),
                  ("duration", limits.mute_duration_problem(window.duration)))
        for key, problem in checks:
            if problem:
                r.error(pairs[key], f"{where}.{key}", problem)
        if window.name in names:
            r.error(pairs["name"], f"{where}.name", f"window '{window.name}' is listed twice")
        names.add(window.name)
        windows.append(window)
    return tuple(windows) if len(r.problems) == before else None
