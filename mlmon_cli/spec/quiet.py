"""`notifications.quiet_windows`: a list of maintenance windows, checked with located problems."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .. import limits
from .convert import MISSING, SpecReader
from .model import QuietWindow

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")


def parse_quiet_windows(r: SpecReader, node: yaml.Node, path: str) -> Any:
    """The windows as a tuple of QuietWindow, or MISSING after recording the problems."""
    if not isinstance(node, yaml.SequenceNode):
        r.error(node, path, "expected a list of windows ({name, schedule, duration})")
        return MISSING
    windows, names, before = [], set(), len(r.problems)
    for index, item in enumerate(node.value):
        where = f"{path}[{index}]"
        window = r.typed(item, where, QuietWindow)
        if window is MISSING:
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
    return tuple(windows) if len(r.problems) == before else MISSING
