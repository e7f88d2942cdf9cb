"""The safe edit pipeline: a candidate document becomes minimal edits only if it passes checks.

Model output never reaches a user's file directly. It is first turned into a whole candidate
document, then:
- the candidate must parse without more syntax errors than the original had;
- every change must lie inside the lines the action may touch (unless the action is meant to
  touch more, like adding imports or a new test file), so no code outside the selection is
  dropped or altered;
- the result is the smallest set of line-level edits that turns the original into the
  candidate, so the editor's review shows only what changed.
Refactorings and the agent's `edit_file` tool share it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from indexing.parsing import parse


class EditRejected(Exception):
    """The candidate failed a check; the message says which, in words a model can act on."""


@dataclass(frozen=True)
class LineEdit:
    """Replace lines [start_line, end_line) of the original with `new_lines`."""

    start_line: int
    end_line: int
    new_lines: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    """One file's change, as the front ends turn it into their edits (a WorkspaceEdit, a write
    in the terminal): the validated minimal edits and the whole new text."""

    path: str  # relative to the workspace root
    original: str | None  # None: a new file
    new_text: str
    edits: list[LineEdit] = field(default_factory=list)


def _error_nodes(tree: Any) -> list[Any]:
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
            continue
        if node.has_error:
            stack.extend(node.children)
    return found


def syntax_errors(text: str, language: str | None) -> list[int] | None:
    """The rows of syntax errors in `text`, or None when it cannot be parsed at all."""
    if language is None:
        return None
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        return None
    return sorted(node.start_point[0] for node in _error_nodes(tree))


def minimal_edits(original: str, candidate: str) -> list[LineEdit]:
    old_lines = original.split("\n")
    new_lines = candidate.split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    return [
        LineEdit(i1, i2, tuple(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def validate(
    original: str,
    candidate: str,
    language: str | None,
    allowed_lines: tuple[int, int] | None = None,
) -> list[LineEdit]:
    """The edits from `original` to `candidate`, or EditRejected saying why not.

    `allowed_lines` (first, last; inclusive, in the original) bounds where changes may be;
    None allows changes anywhere."""
    if allowed_lines is None:
        edits = minimal_edits(original, candidate)
    else:
        edits = _edits_within(original, candidate, *allowed_lines)
    if not edits:
        raise EditRejected("the result is identical to the original")
    before = syntax_errors(original, language)
    after = syntax_errors(candidate, language)
    if before is not None and after is not None and len(after) > len(before):
        new_rows = [row for row in after if row not in before] or after
        line = candidate.split("\n")[new_rows[0]].strip()
        raise EditRejected(
            f"the result does not parse: syntax error at line {new_rows[0] + 1}: {line!r}"
        )
    return edits


def _edits_within(original: str, candidate: str, first: int, last: int) -> list[LineEdit]:
    """The edits, when the candidate keeps every line outside first..last as it was.

    Checked on the text itself, not on a diff: a diff may align a blank line inside the range
    with one just outside it and so report a change there that the candidate does not make."""
    old = original.split("\n")
    new = candidate.split("\n")
    head, tail = old[:first], old[last + 1 :]
    kept_tail = len(new) - len(tail)
    if new[:first] != head or kept_tail < first or new[kept_tail:] != tail:
        row = next(
            (
                i
                for i, (a, b) in enumerate(zip(old, new, strict=False))
                if a != b and not first <= i <= last
            ),
            first - 1 if new[:first] != head else last + 1,
        )
        span = f"{first + 1}-{last + 1}"
        raise EditRejected(f"the change reaches line {row + 1}, outside lines {span} it may change")
    if kept_tail == first:  # the whole range removed
        return [LineEdit(first, last + 1, ())]
    inner = minimal_edits("\n".join(old[first : last + 1]), "\n".join(new[first:kept_tail]))
    return [LineEdit(e.start_line + first, e.end_line + first, e.new_lines) for e in inner]


def apply_edits(original: str, edits: list[LineEdit]) -> str:
    lines = original.split("\n")
    for edit in sorted(edits, key=lambda e: e.start_line, reverse=True):
        lines[edit.start_line : edit.end_line] = list(edit.new_lines)
    return "\n".join(lines)


def replace_lines(text: str, first: int, last: int, replacement: str) -> str:
    """`text` with lines first..last (inclusive) replaced by `replacement`."""
    lines = text.split("\n")
    return "\n".join([*lines[:first], *replacement.split("\n"), *lines[last + 1 :]])
