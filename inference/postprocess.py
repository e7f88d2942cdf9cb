"""Turning raw model output into a suggestion worth showing.

Rules, in order: cut at a stop marker; when the cursor is mid-line, keep a single line and
never repeat the text that follows the cursor; stop at the end of the enclosing block (a
dedent below the cursor's indentation, or a blank line followed by a new statement at the
same level); never repeat the lines that follow the cursor; cap the number of lines.
The same rules tell the generator when it can stop early (`should_stop`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CursorContext:
    line_before: str  # text of the cursor line before the cursor
    line_after: str  # text of the cursor line after the cursor
    following: tuple[str, ...]  # the next few lines after the cursor line

    @property
    def mid_line(self) -> bool:
        return bool(self.line_after.strip())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def cut_at_stop(text: str, stops: Iterable[str]) -> str:
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


def _kept_lines(lines: list[str], cursor: CursorContext, max_lines: int) -> tuple[list[str], bool]:
    """The lines worth keeping, and whether a rule (not the end of input) ended them."""
    base_indent = _indent(cursor.line_before)
    next_line = next((line.strip() for line in cursor.following if line.strip()), None)
    kept: list[str] = []
    seen_code = bool(cursor.line_before.strip())
    for index, line in enumerate(lines):
        stripped = line.strip()
        if index > 0 and stripped:
            if _indent(line) < base_indent:
                return kept, True  # dedent: the enclosing block ended
            if seen_code and not kept[-1].strip() and _indent(line) <= base_indent:
                return kept, True  # a blank line, then a new statement at our level
        if stripped and stripped == next_line and (index > 0 or not cursor.line_before.strip()):
            return kept, True  # the model is re-typing the code that follows the cursor
        kept.append(line)
        seen_code = seen_code or bool(stripped)
        if len(kept) >= max_lines:
            return kept, True
    return kept, False


def clean_completion(
    text: str, cursor: CursorContext, *, max_lines: int, stops: Iterable[str] = ()
) -> str:
    text = cut_at_stop(text, stops)
    if cursor.mid_line:
        return _single_line(text, cursor.line_after)
    kept, _ = _kept_lines(text.split("\n"), cursor, max_lines)
    while kept and not kept[-1].strip():
        kept.pop()
    result = "\n".join(line.rstrip() for line in kept)
    return result if result.strip() else ""


def should_stop(text: str, cursor: CursorContext, *, max_lines: int, stops: Iterable[str]) -> bool:
    """True once more tokens cannot change the cleaned completion."""
    if any(stop in text for stop in stops):
        return True
    if cursor.mid_line:
        return "\n" in text
    complete_lines = text.split("\n")[:-1]
    return bool(complete_lines) and _kept_lines(complete_lines, cursor, max_lines)[1]


def _single_line(text: str, line_after: str) -> str:
    first = text.split("\n", 1)[0].rstrip()
    tail = line_after.strip()
    if first.endswith(tail):
        first = first[: -len(tail)].rstrip()
    elif tail in first:
        first = first[: first.index(tail)].rstrip()
    return first if first.strip() else ""
