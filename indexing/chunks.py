"""Syntax-aware chunks of a file: whole functions, classes and blocks, size-capped.

A chunk is what BM25 search returns and what retrieval can put in a prompt, so it should be a
unit a reader would quote: a whole function rather than 40 arbitrary lines. Top-level nodes
are grouped until a chunk would pass MAX_LINES; a node bigger than that is split into its own
children (a class into its methods), and a node with no children into line windows. Without a
syntax tree (no grammar, too large, a parse failure) the file falls back to line windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_LINES = 60
MAX_CHARS = 4000


@dataclass(frozen=True)
class Chunk:
    start_row: int
    end_row: int  # inclusive
    text: str


def _line_windows(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    return [(row, min(end, row + MAX_LINES - 1)) for row in range(start, end + 1, MAX_LINES)]


def _spans(node: Any, lines: list[str]) -> list[tuple[int, int]]:
    """Row spans covering `node`'s children, each at most MAX_LINES long where possible."""
    spans: list[tuple[int, int]] = []
    group: tuple[int, int] | None = None
    for child in node.children:
        start, end = child.start_point[0], child.end_point[0]
        if end - start + 1 > MAX_LINES:
            if group is not None:
                spans.append(group)
                group = None
            inner = [c for c in child.children if c.end_point[0] > c.start_point[0]]
            if inner:
                spans.extend(_spans(child, lines))
            else:
                spans.extend(_line_windows(lines, start, end))
            continue
        if group is not None and end - group[0] + 1 <= MAX_LINES:
            group = (group[0], max(group[1], end))
        else:
            if group is not None:
                spans.append(group)
            group = (start, end)
    if group is not None:
        spans.append(group)
    return spans


def chunk_file(text: str, tree: Any | None) -> list[Chunk]:
    lines = text.split("\n")
    if not text.strip():
        return []
    if tree is None:
        spans = _line_windows(lines, 0, len(lines) - 1)
    else:
        spans = _spans(tree.root_node, lines)
    chunks: list[Chunk] = []
    covered = -1
    for start, end in spans:
        start = max(start, covered + 1)  # a node that shares a row with the last one
        if end < start:
            continue
        body = "\n".join(lines[start : end + 1])
        covered = end
        if body.strip():
            chunks.append(Chunk(start, end, body[:MAX_CHARS]))
    return chunks
