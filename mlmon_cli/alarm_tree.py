"""Walking the composite-alarm tree read back from a template or an account (no heavy imports)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def ancestors(node: Node, parents: Mapping[Node, Sequence[Node]]) -> list[Node]:
    """Every composite above `node`, nearest first (breadth-first), each once."""
    out: list[Node] = []
    todo = list(parents.get(node, []))
    while todo:
        current = todo.pop(0)
        if current not in out:
            out.append(current)
            todo += parents.get(current, [])
    return out
