"""LSP positions and the str offsets the services work in, under the negotiated encoding.

An LSP `character` counts code units of the position encoding agreed at initialize: UTF-8
bytes (Neovim asks for these first), UTF-16 units (the default; an astral character such as
😀 counts twice) or UTF-32 units (code points, which is what a Python str index counts).
The services below the front end speak str offsets and code-point columns only; every
position that enters or leaves the server converts here, through `PositionEncoding`.
Tree-sitter's (row, byte column) points convert through `LineIndex`.
"""

from __future__ import annotations

from enum import Enum

from lsprotocol import types

from indexing.open_trees import TextChange


class PositionEncoding(str, Enum):
    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"

    @classmethod
    def negotiated(cls, value: object) -> PositionEncoding:
        """The encoding pygls settled on (a PositionEncodingKind or its string); LSP's
        default, UTF-16, when there is none."""
        raw = getattr(value, "value", value)
        for encoding in cls:
            if raw == encoding.value:
                return encoding
        return cls.UTF16

    def units(self, text: str) -> int:
        """How many code units of this encoding `text` takes."""
        if self is PositionEncoding.UTF32:
            return len(text)
        if self is PositionEncoding.UTF8:
            return len(text.encode("utf-8", errors="surrogatepass"))
        return len(text.encode("utf-16-le", errors="surrogatepass")) // 2

    def unit_width(self, char: str) -> int:
        code = ord(char)
        if self is PositionEncoding.UTF32:
            return 1
        if self is PositionEncoding.UTF16:
            return 2 if code > 0xFFFF else 1
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _line_bounds(text: str, line: int) -> tuple[int, int] | None:
    """The str offsets where `line` starts and ends (before its newline); None past the end."""
    start = 0
    for _ in range(line):
        newline = text.find("\n", start)
        if newline == -1:
            return None
        start = newline + 1
    end = text.find("\n", start)
    return start, len(text) if end == -1 else end


def column_in_line(line_text: str, character: int, encoding: PositionEncoding) -> int:
    """The code-point column of `character` code units into `line_text`, clamped to the line.
    A position inside a multi-unit character moves to that character's end."""
    if encoding is PositionEncoding.UTF32:
        return max(0, min(character, len(line_text)))
    units = 0
    column = 0
    while column < len(line_text) and units < character:
        units += encoding.unit_width(line_text[column])
        column += 1
    return column


def offset_at(text: str, line: int, character: int, encoding: PositionEncoding) -> int:
    """The str index of an LSP position; a position past a line's end or the text's end
    clamps to it."""
    bounds = _line_bounds(text, max(0, line))
    if bounds is None:
        return len(text)
    start, end = bounds
    return start + column_in_line(text[start:end], character, encoding)


def line_text(text: str, line: int) -> str:
    """The text of `line` without its newline; "" past the end."""
    bounds = _line_bounds(text, max(0, line))
    return text[bounds[0] : bounds[1]] if bounds is not None else ""


def column_at(text: str, line: int, character: int, encoding: PositionEncoding) -> int:
    """The code-point column on `line` of an LSP position (clamped like `offset_at`)."""
    bounds = _line_bounds(text, max(0, line))
    if bounds is None:
        return 0
    start, end = bounds
    return column_in_line(text[start:end], character, encoding)


def position_at(text: str, offset: int, encoding: PositionEncoding) -> types.Position:
    """The LSP position of a str index."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line, encoding.units(text[line_start:offset]))


def range_at(text: str, start: int, end: int, encoding: PositionEncoding) -> types.Range:
    return types.Range(position_at(text, start, encoding), position_at(text, end, encoding))


class LineIndex:
    """Converts tree-sitter (row, byte column) points of one document into LSP positions."""

    def __init__(self, source: bytes, encoding: PositionEncoding) -> None:
        self._lines = source.split(b"\n")
        self._encoding = encoding

    def position(self, row: int, byte_column: int) -> types.Position:
        if row >= len(self._lines):
            return types.Position(row, 0)
        head = self._lines[row][:byte_column]
        if self._encoding is PositionEncoding.UTF8:
            return types.Position(row, len(head))
        return types.Position(row, self._encoding.units(head.decode("utf-8", errors="replace")))

    def range(self, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        return types.Range(self.position(*start), self.position(*end))

    def byte_column(self, row: int, character: int) -> int:
        """The byte column of an LSP position on `row` (the inverse of `position`)."""
        if row >= len(self._lines):
            return 0
        raw = self._lines[row]
        if self._encoding is PositionEncoding.UTF8:
            return min(character, len(raw))
        line = raw.decode("utf-8", errors="replace")
        column = column_in_line(line, character, self._encoding)
        return len(line[:column].encode("utf-8"))


def text_changes(
    old_text: str,
    changes: list[types.TextDocumentContentChangeEvent],
    encoding: PositionEncoding,
) -> list[TextChange]:
    """LSP content changes as str offsets, each relative to the text the previous one left."""
    result = []
    text = old_text
    for change in changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = offset_at(text, change.range.start.line, change.range.start.character, encoding)
            end = offset_at(text, change.range.end.line, change.range.end.character, encoding)
            result.append(TextChange(start, end, change.text))
            text = text[:start] + change.text + text[end:]
        else:
            result.append(TextChange(None, None, change.text))
            text = change.text
    return result
