"""Finding the text an edit replaces when the model's copy of it is not exact: loose
whitespace, an elision (`...`) standing for lines it left out, collapsed blank lines; and,
when nothing matches, the nearest lines to show back ("did you mean")."""

from __future__ import annotations

import difflib
import re


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _loose_replace(text: str, old: str, new: str) -> str | None:
    """Matches `old` line by line ignoring indentation and trailing spaces (small models often
    get those wrong), and re-indents `new` by the same shift. None unless exactly one match."""
    lines = text.split("\n")
    wanted = [line.strip() for line in old.strip("\n").split("\n")]
    if not any(wanted):
        return None
    starts = [
        i
        for i in range(len(lines) - len(wanted) + 1)
        if [line.strip() for line in lines[i : i + len(wanted)]] == wanted
    ]
    if len(starts) != 1:
        return _elided_replace(lines, old, new) or _collapsed_replace(lines, old, new)
    start = starts[0]
    # How the model's indentation maps to the file's, level by level, from the matched lines.
    levels: dict[int, int] = {}
    for given, actual in zip(old.strip("\n").split("\n"), lines[start:], strict=False):
        if given.strip():
            levels.setdefault(_indent(given), _indent(actual))
    replaced = []
    for line in new.strip("\n").split("\n"):
        if line.strip():
            width = _indent(line)
            below = [level for level in levels if level <= width]
            base = max(below) if below else min(levels)
            line = " " * max(0, levels[base] + width - base) + line.lstrip()
        replaced.append(line)
    return "\n".join([*lines[:start], *replaced, *lines[start + len(wanted) :]])


ELISION = re.compile(r"^\s*(#|//)?\s*(\.\.\.|…)(\s.*)?$")


def _split_elision(text: str) -> tuple[list[str], list[str]] | None:
    lines = text.strip("\n").split("\n")
    marks = [i for i, line in enumerate(lines) if ELISION.match(line)]
    if len(marks) != 1:
        return None
    return lines[: marks[0]], lines[marks[0] + 1 :]


def _elided_replace(lines: list[str], old: str, new: str) -> str | None:
    """`old` with one elided stretch ("..." or "# ... rest unchanged" on a line of its own):
    its lines before and after it must match, once, around the stretch. When `new` elides
    too, the stretch is kept between its two parts."""
    parts = _split_elision(old)
    if parts is None or not any(line.strip() for line in parts[0]):
        return None
    head = [line.strip() for line in parts[0]]
    tail = [line.strip() for line in parts[1]]

    def matches(at: int, wanted: list[str]) -> bool:
        return [line.strip() for line in lines[at : at + len(wanted)]] == wanted

    spans = []
    for start in range(len(lines) - len(head) + 1):
        if not matches(start, head):
            continue
        after = start + len(head)
        ends = [e for e in range(after, len(lines) - len(tail) + 1) if matches(e, tail)]
        if ends:
            spans.append((start, after, ends[0], ends[0] + len(tail)))
    if len(spans) != 1:
        return None
    start, head_end, tail_start, end = spans[0]
    shift = _indent(lines[start]) - _indent(parts[0][0])

    def shifted(block: list[str]) -> list[str]:
        return [" " * max(0, _indent(x) + shift) + x.lstrip() if x.strip() else "" for x in block]

    new_parts = _split_elision(new)
    if new_parts is None:
        middle = shifted(new.strip("\n").split("\n"))
    else:
        middle = shifted(new_parts[0]) + lines[head_end:tail_start] + shifted(new_parts[1])
    return "\n".join([*lines[:start], *middle, *lines[end:]])


def _collapsed_replace(lines: list[str], old: str, new: str) -> str | None:
    """`old` written with its lines run together ("def f(x): return x"): matched on words
    alone, against the one run of whole lines that has exactly those words."""
    words = old.split()
    found = []
    for start in range(len(lines)):
        have: list[str] = []
        for end in range(start, len(lines)):
            have += lines[end].split()
            if have == words and lines[start].strip():
                found.append((start, end + 1))
            if len(have) >= len(words):
                break
    if len(found) != 1:
        return None
    start, end = found[0]
    indent = lines[start][: _indent(lines[start])]
    replaced = [indent + line if line.strip() else line for line in new.strip("\n").split("\n")]
    return "\n".join([*lines[:start], *replaced, *lines[end:]])


PROTECTED = (
    "{path} is a test file, and the task does not ask to change tests: change the code the "
    "test checks instead"
)


def did_you_mean(text: str, old: str) -> str:
    """The lines of `text` closest to `old`, quoted with their numbers, for a missed edit."""
    lines = text.split("\n")
    wanted = [line.strip() for line in old.strip("\n").split("\n")]
    size = max(1, len(wanted))
    best, best_at = 0.0, -1
    for start in range(0, max(1, len(lines) - size + 1)):
        window = [line.strip() for line in lines[start : start + size]]
        ratio = difflib.SequenceMatcher(None, "\n".join(window), "\n".join(wanted)).ratio()
        if ratio > best:
            best, best_at = ratio, start
    if best < 0.5 or best_at < 0:
        return " read_file shows its exact text."
    quoted = "\n".join(
        f"{best_at + i + 1:5}| {line}" for i, line in enumerate(lines[best_at : best_at + size])
    )
    return f" Did you mean these lines (copy them exactly into old)?\n{quoted}"
