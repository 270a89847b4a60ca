"""Names CloudFormation and AWS accept, derived only from the component and alarm.

Every name depends on its own parts alone (never on other components or on order), so adding
or reordering components never renames, and so never replaces, a deployed resource. Names
over a limit are shortened with a stable hash of the full name, so they stay unique.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

LOGICAL_ID_MAX = 255
ALARM_NAME_MAX = 255
RULE_NAME_MAX = 64
TARGET_ID_MAX = 64
_HASH_LEN = 8


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]


def shorten(name: str, limit: int, sep: str = "-") -> str:
    """Return `name` if it fits, else a prefix plus a hash of the whole name (exactly `limit` long)."""
    if len(name) <= limit:
        return name
    suffix = sep + stable_hash(name)
    return name[: limit - len(suffix)] + suffix


@lru_cache(maxsize=65536)
def _pascal(part: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", part)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def logical_id(*parts: str) -> str:
    """A CloudFormation logical ID (alphanumeric, starts with a letter, at most 255 characters)."""
    text = "".join(_pascal(p) for p in parts)
    if not text or not text[0].isalpha():
        text = "X" + text
    return shorten(text, LOGICAL_ID_MAX, sep="")


def alarm_name(solution: str, *parts: str) -> str:
    """CloudWatch alarm name `solution-component-...-Suffix`, at most 255 characters."""
    return shorten("-".join([solution, *[p for p in parts if p]]), ALARM_NAME_MAX)


def rule_name(solution: str, *parts: str) -> str:
    """EventBridge rule name: at most 64 characters of `[.-_A-Za-z0-9]`."""
    raw = "-".join([solution, *[p for p in parts if p]])
    return shorten(re.sub(r"[^.\-_A-Za-z0-9]", "-", raw), RULE_NAME_MAX)


def scoped_solution(solution: str, environment: str | None, name_suffix: str | None) -> str:
    """The prefix of every physical name: `solution`, or `solution-<suffix>` when an environment is
    selected (its name, or an explicit `name_suffix`), so environments of one spec deploy side by
    side in one account. Logical IDs never include it, so they stay the same in every environment."""
    suffix = name_suffix if name_suffix is not None else environment
    return f"{solution}-{suffix}" if suffix else solution
