"""Text geometry for the completion prompt: cursor offsets and line windows.

Everything here is linear in the distance walked, never in the file size, so a huge file
costs no more than its windows."""

from __future__ import annotations

from dataclasses import dataclass

from inference.postprocess import CursorContext


def cursor_offset(text: str, line: int, column: int) -> int:
    """The str index of (line, code-point column); positions past the end clamp to the end."""
    start = 0
    for _ in range(line):
        newline = text.find("\n", start)
        if newline == -1:
            return len(text)
        start = newline + 1
    end = text.find("\n", start)
    end = len(text) if end == -1 else end
    return min(start + max(0, column), end)


def _back_lines(text: str, offset: int, count: int) -> int:
    """The offset of the start of the line `count` lines above the line holding `offset`."""
    start = offset
    for _ in range(count + 1):
        newline = text.rfind("\n", 0, start)
        if newline == -1:
            return 0
        start = newline
    return start + 1


def _forward_lines(text: str, offset: int, count: int) -> int:
    """The offset just past the end of the line `count` lines below the one holding `offset`."""
    end = offset
    for _ in range(count + 1):
        newline = text.find("\n", end)
        if newline == -1:
            return len(text)
        end = newline + 1
    return end - 1


@dataclass(frozen=True)
class FimWindow:
    prefix: str
    suffix: str
    cursor: CursorContext


# The prefix window starts on a multiple of this many lines, so that it stays put while the
# cursor moves within a few lines and the prompt's cached prefix stays valid.
WINDOW_STEP = 16


def fim_window(
    text: str, offset: int, prefix_lines: int, suffix_lines: int, line: int | None = None
) -> FimWindow:
    """The text around `offset`: about `prefix_lines` before it and `suffix_lines` after it.

    With the cursor's `line`, the start is rounded down to a multiple of WINDOW_STEP lines."""
    back = prefix_lines
    if line is not None and line > prefix_lines:
        back = line - (line - prefix_lines) // WINDOW_STEP * WINDOW_STEP
    prefix_start = _back_lines(text, offset, back)
    suffix_end = _forward_lines(text, offset, suffix_lines)
    prefix = text[prefix_start:offset]
    suffix = text[offset:suffix_end]
    line_before = prefix.rsplit("\n", 1)[-1]
    line_after, _, rest = suffix.partition("\n")
    following = tuple(rest.split("\n")[:8]) if rest else ()
    return FimWindow(prefix, suffix, CursorContext(line_before, line_after, following))
