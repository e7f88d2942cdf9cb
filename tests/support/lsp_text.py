"""Applying LSP text edits and reading LSP positions the way an editor does, independently of
the server's own conversion code (by encoding each line, not by counting code units)."""

from __future__ import annotations

from lsprotocol import types

CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


def units(text: str, encoding: str) -> int:
    codec, width = CODECS[encoding]
    return len(text.encode(codec)) // width


def offset(text: str, position: types.Position, encoding: str) -> int:
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: position.line])
    codec, width = CODECS[encoding]
    raw = lines[position.line].encode(codec)[: position.character * width]
    return start + len(raw.decode(codec))


def position(text: str, index: int, encoding: str) -> types.Position:
    before = text[:index]
    line = before.count("\n")
    return types.Position(line, units(before.rsplit("\n", 1)[-1], encoding))


def apply_edits(text: str, edits: list, encoding: str = "utf-16") -> str:
    """Applies TextEdits last first, as editors do."""
    ordered = sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    )
    for edit in ordered:
        start = offset(text, edit.range.start, encoding)
        end = offset(text, edit.range.end, encoding)
        text = text[:start] + edit.new_text + text[end:]
    return text
