"""Tree-sitter speaks in bytes; LSP in UTF-16 (or UTF-8/32) code units. This converts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    line: int
    character: int


class LineIndex:
    """Converts tree-sitter (row, byte column) points into LSP positions for one document."""

    def __init__(self, source: bytes, encoding: str = "utf-16") -> None:
        self._lines = source.split(b"\n")
        self._encoding = encoding

    def point(self, row: int, byte_column: int) -> Point:
        if row >= len(self._lines):
            return Point(row, 0)
        head = self._lines[row][:byte_column]
        if self._encoding == "utf-8":
            return Point(row, len(head))
        text = head.decode("utf-8", errors="replace")
        if self._encoding == "utf-32":
            return Point(row, len(text))
        return Point(row, len(text.encode("utf-16-le")) // 2)
