"""Folding and selection ranges straight from the syntax tree, for any grammar."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fold:
    start_line: int
    end_line: int
    kind: str  # "region", "comment" or "imports"


def _named(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.named_children))


def folds(tree: Any) -> list[Fold]:
    """Every multi-line construct, one fold per starting line (the largest one there)."""
    best: dict[int, Fold] = {}
    for node in _named(tree.root_node):
        start, end = node.start_point[0], node.end_point[0]
        if node.end_point[1] == 0:
            end -= 1  # a node ending at column 0 ends on the line before
        if end <= start or node.parent is None:
            continue
        kind = (
            "comment"
            if "comment" in node.type
            else "imports"
            if "import" in node.type
            else "region"
        )
        current = best.get(start)
        if current is None or end > current.end_line:
            best[start] = Fold(start, end, kind)
    return sorted(best.values(), key=lambda fold: fold.start_line)


def enclosing_nodes(tree: Any, byte_offset: int) -> list[Any]:
    """The nodes around a byte offset, innermost first, each strictly larger than the last."""
    node = tree.root_node.descendant_for_byte_range(byte_offset, byte_offset)
    chain: list[Any] = []
    while node is not None:
        if not chain or (node.start_byte, node.end_byte) != (
            chain[-1].start_byte,
            chain[-1].end_byte,
        ):
            chain.append(node)
        node = node.parent
    return chain
