"""Single-token edits of the original code at the lines its candidates suspect.

Datasets of single-statement bug fixes (ManySStuBs4J in Java, PySStuBs in Python) count,
among their recurring patterns, fixes of one token: a changed numeral, a swapped comparison or
arithmetic operator, a flipped boolean literal. Mutation-based repair tools (PraPR, TBar's
fix patterns) try exactly those edits and let the tests judge. A small model is good at
pointing to the line and bad at the one token: asked to fix `take_nth`, the 1.5B rewrote
`itertools.islice(seq, 1, None, n)` in every candidate (`1 + n - 1`, `n`), and none wrote
the `0` the tests wanted. So when a round has nothing green, the lines that the candidates
changed in the original (most candidates first), after the lines the failing tracebacks
reach, are given each single-token edit in turn, a few in all, and judged by the same tests.
Where the rows the failing tests ran are known (agent.env.line_trace), only those count, and the
ones no candidate changed follow: the model does not always point at the right line.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from agent.near_miss import NUMBER_NODES, Neighbour
from indexing.parsing import parse

MAX_PER_ROW = 4  # so that one long line does not take every edit
# The boundary swap first: `<` for `<=` is the commonest operator slip.
SWAPS: dict[str, tuple[str, ...]] = {
    "<": ("<=",), "<=": ("<",), ">": (">=",), ">=": (">", "=="),
    "==": ("!=",), "!=": ("==",), "+": ("-",), "-": ("+",),
    "===": ("!==",), "!==": ("===",), "+=": ("-=",), "-=": ("+=",),
    "and": ("or",), "or": ("and",), "&&": ("||",), "||": ("&&",),
}  # fmt: skip
BOOLEANS = {"True": "False", "False": "True", "true": "false", "false": "true"}
UNARY = frozenset({"unary_operator", "unary_expression", "prefix_expression"})


def suspect_rows(
    original: str,
    candidates: Iterable[str],
    traced: Iterable[int],
    first: int,
    last: int,
    executed: Collection[int] | None = None,
) -> list[int]:
    """The 0-based rows in `first..last` of `original`: those that tracebacks reach
    (`traced`), then those the most candidates replaced or deleted. Given the rows the
    failing tests ran (`executed`), only those count after the traced ones, and the ones
    no candidate touched come last, in order: an edit to a row that never ran cannot change
    how the tests fail."""
    lines = original.split("\n")
    counts: Counter[int] = Counter()
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(a=lines, b=candidate.split("\n"), autojunk=False)
        for tag, start, end, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                counts.update(range(start, end))
    touched = [row for row, _ in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]
    if executed is not None:
        touched = [row for row in touched if row in executed]
        touched += sorted(row for row in executed if row not in counts)
    ranked = [*traced, *touched]
    return [row for row in dict.fromkeys(ranked) if first <= row <= last]


def single_edits(
    original: str, rows: list[int], language: str, limit: int | None = None
) -> list[Neighbour]:
    """Variants of `original`, each with one number moved by one, one operator swapped or one
    boolean flipped on one of `rows`, row by row in the given order, at most MAX_PER_ROW on
    a row; the first `limit` of them when one is given."""
    tree = parse(original.encode("utf-8"), language)
    if tree is None:
        return []
    lines = original.split("\n")
    by_row: dict[int, list[tuple[int, int, str]]] = {row: [] for row in rows}
    for node in _leaves(tree.root_node):
        row = node.start_point[0]
        if row in by_row and node.end_point[0] == row:
            start, end = node.start_point[1], node.end_point[1]
            by_row[row] += [(start, end, r) for r in _replacements(node)]
    found: list[Neighbour] = []
    for row in rows:
        line = lines[row].encode("utf-8")
        for start, end, replacement in by_row[row][:MAX_PER_ROW]:
            after = (line[:start] + replacement.encode() + line[end:]).decode("utf-8")
            varied = [*lines[:row], after, *lines[row + 1 :]]
            found.append(Neighbour("\n".join(varied), row, lines[row], after))
            if limit is not None and len(found) >= limit:
                return found
    return found


def _replacements(node: Any) -> list[str]:
    text = node.text.decode("utf-8", "replace")
    if node.type in NUMBER_NODES:
        return [str(v) for v in (int(text) - 1, int(text) + 1) if v >= 0] if text.isdigit() else []
    if node.is_named:
        return [BOOLEANS[text]] if node.type in ("true", "false") and text in BOOLEANS else []
    parent = node.parent
    if (
        text in ("-", "+") and parent is not None and (parent.type in UNARY or _joins_text(parent))
    ):  # a sign, or text joined: `'expected ' + name` has no `-` to try
        return []
    return list(SWAPS.get(text, ()))


def _joins_text(node: Any) -> bool:
    """Whether a `+` expression has a string among its operands, however deeply chained."""
    return any(
        "string" in child.type or (child.child_count and _joins_text(child))
        for child in node.children
        if "string" in child.type or child.type == node.type
    )


def _leaves(root: Any) -> list[Any]:
    """Numbers, booleans and operator tokens under `root`, in source order; nothing inside a
    string or a comment."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type in NUMBER_NODES or node.type in ("true", "false"):
            found.append(node)
        elif "string" in node.type or "comment" in node.type:
            continue
        elif node.child_count == 0:
            if not node.is_named:
                found.append(node)
        else:
            stack.extend(reversed(node.children))
    return found
