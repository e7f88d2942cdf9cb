"""Which place a round works on: the next ranked region after a round that fixed nothing,
and a window of whole statements around the suspect rows of a function too long to rewrite."""

from __future__ import annotations

import re
from typing import Any

from agent.judge import Judged
from agent.localize import Region
from agent.rewrite import docstring_lines, region_text
from indexing.parsing import parse

# Longer functions are edited through a window: the 1.5B spent 573 s on six whole-function
# rewrites of a 775-line function (five deleted module-level names, one broke 36 of 37 tests)
# where the fix was two lines near one `if`. Replies of the length of the longest function
# the benchmark's models rewrite whole (the real suite's are at most about 90 lines).
MAX_REGION_LINES = 80
WINDOW_LINES = 40  # a window holds whole statements, at most about this many lines
STATEMENT_PARENTS = frozenset({"block", "module"})


def calls_next(original: str, regions: list[Region], place: int) -> bool:
    """Whether the function at `place` calls the one ranked after it."""
    if place + 1 >= len(regions) or {r.kind for r in regions[place : place + 2]} != {"function"}:
        return False
    lines = region_text(original, regions[place]).split("\n")
    where = docstring_lines("\n".join(lines))
    if where:  # its examples (`list(accumulate(add, [1, 2]))`) are no calls
        lines = lines[: where[0]] + lines[where[1] + 1 :]
    body = "\n".join(line for line in lines[1:] if not line.lstrip().startswith("#"))
    callee = regions[place + 1].name.rsplit(".", 1)[-1]
    return bool(re.search(rf"\b{re.escape(callee)}\s*\(", body))


def try_next_place(
    pool: list[Judged], regions: list[Region], place: int, calls_next: bool = False,
    stay: bool = False,
) -> bool:  # fmt: skip
    """After a round in which no tested candidate made a failing test pass (or none could
    be tested), the next place is tried, when the place just rewritten calls it (a thin
    wrapper, `backoff` around `backoff_iter`: the report names the wrapper, the work is in
    what it calls), or when it scored close to the first, unless the caller says to `stay`:
    the failing tests' traceback runs through this place and a candidate here changed how
    they fail, breaking nothing else. A change on the tests' path alone is no reason: any
    change there moves their failure, at the wrong place as at the right one. But where the
    tests crash (`accumulate`'s `raise NotImplementedError`, a body to write), a rewrite
    that moved the crash is the work begun; the round that went on to toolz.curried's
    `accumulate = curry(accumulate)` had no chance."""
    if place + 1 >= len(regions) or any(j.fixed for j in pool):
        return False
    if calls_next:
        return True
    return not stay and regions[place + 1].score >= 0.6 * regions[0].score


def needs_window(region: Region) -> bool:
    return region.kind == "function" and region.last - region.first + 1 > MAX_REGION_LINES


def window(original: str, region: Region, anchors: list[int], language: str) -> Region:
    """Whole statements of the function around the first anchor row (0-based, in the file)
    that lies inside its body, at most about WINDOW_LINES; the top of its body without one."""
    tree = parse(original.encode("utf-8"), language)
    body = _body_start(original, region)
    # Rows of the signature or the docstring (the tests "ran" the `def` line) are no anchor.
    inside = [row for row in anchors if body <= row <= region.last]
    if tree is None:
        return region
    row = inside[0] if inside else body
    node = tree.root_node.descendant_for_point_range((row, _indent_of(original, row)),
                                                     (row, _indent_of(original, row)))  # fmt: skip
    statement = _statement_at(node, region)
    if statement is None:
        return region
    first, last = _grow(statement, region, body)
    reasons = (*region.reasons, f"a window of {last - first + 1} of its "
               f"{region.last - region.first + 1} lines, around line {row + 1}")  # fmt: skip
    return Region(region.path, first, last, region.name, "window", region.score, reasons)


def _indent_of(text: str, row: int) -> int:
    lines = text.split("\n")
    line = lines[row] if row < len(lines) else ""
    return len(line.encode("utf-8")) - len(line.lstrip().encode("utf-8"))


def _body_start(original: str, region: Region) -> int:
    """The first row after the `def` line and the docstring."""
    code = region_text(original, region)
    where = docstring_lines(code)
    head = next((i for i, line in enumerate(code.split("\n")) if line.rstrip().endswith(":")), 0)
    return region.first + max(head, where[1] if where else 0) + 1


def _statement_at(node: Any, region: Region) -> Any | None:
    """The innermost statement holding `node` inside the function (not the function itself);
    when it is longer than a window, the first statement of its body."""
    current = node
    while current is not None and current.parent is not None:
        start, end = current.start_point[0], current.end_point[0]
        if current.parent.type in STATEMENT_PARENTS and region.first < start and end <= region.last:
            break
        current = current.parent
    else:
        return None
    while current.end_point[0] - current.start_point[0] + 1 > WINDOW_LINES:
        block = next((c for c in current.named_children if c.type == "block"), None)
        if block is None or not block.named_children:
            break
        current = block.named_children[0]
    return current


def _grow(statement: Any, region: Region, floor: int) -> tuple[int, int]:
    """The statement's rows, grown by its siblings, alternately after and before, while the
    window stays within WINDOW_LINES; then by the statement that holds them, when it fits."""
    first, last = statement.start_point[0], statement.end_point[0]
    while True:
        first, last = _grow_among_siblings(statement, first, last, floor)
        holder = statement.parent.parent if statement.parent.type == "block" else None
        if holder is None or holder.start_point[0] <= region.first:
            return first, last
        start, end = holder.start_point[0], holder.end_point[0]
        if end - start + 1 > WINDOW_LINES:
            return first, last
        statement, first, last = holder, min(first, start), max(last, end)


def _grow_among_siblings(statement: Any, first: int, last: int, floor: int) -> tuple[int, int]:
    """Not above `floor`: the function's docstring stays out of the window."""
    sides = {"after": statement.next_named_sibling, "before": statement.prev_named_sibling}
    while any(sides.values()):
        for side, node in list(sides.items()):
            if node is None:
                continue
            start, end = min(first, node.start_point[0]), max(last, node.end_point[0])
            if end - start + 1 > WINDOW_LINES or start < floor:
                sides[side] = None
                continue
            first, last = start, end
            sides[side] = node.next_named_sibling if side == "after" else node.prev_named_sibling
    return first, last
