"""Which doubted tokens become rewrites (agent.doubt_branches), on hand-made scores."""

from __future__ import annotations

from agent.doubt_branches import branches
from inference.doubts import TokenDoubt


def scored(pieces):
    """TokenDoubts from (text, probability, [(alternative, probability)]) in order."""
    doubts, offset = [], 0
    for text, probability, alternatives in pieces:
        doubts.append(TokenDoubt(offset, text, probability, tuple(alternatives)))
        offset += len(text)
    return doubts


TEXT = '    """Docs."""\n    # a comment\n    if size >= limit:\n        return 1\n'
DOUBTS = scored([
    ("    ", 0.99, [("  ", 0.01)]),
    ('"""Docs', 0.1, [('"""The', 0.5)]),  # the docstring: not code
    ('."""\n', 0.9, [(".", 0.1)]),
    ("    #", 0.99, [("   ", 0.01)]),
    (" a comment\n", 0.2, [(" the", 0.3)]),  # a comment line
    ("    if", 0.95, [("    while", 0.04)]),
    (" size", 0.9, [(" #", 0.05), (" len", 0.04)]),  # a comment is no change: the next one
    (" >=", 0.6, [(" >", 0.39)]),
    (" limit", 0.5, [(" max", 0.3)]),  # the same line as `>=`, and less likely: kept instead
    (":\n", 0.3, [(":", 0.69)]),  # only whitespace moves
    ("        return", 0.97, [("        yield", 0.02)]),
    (" 1\n", 0.8, [(" 0", 0.1)]),
])  # fmt: skip


def test_branches_take_the_least_likely_code_token_of_each_line():
    found = branches(TEXT, DOUBTS, 5, skip_lines=frozenset({0}))
    # The last token (` 1`, p = 0.8) is no doubt: a reply's last line merges with what follows
    # it. Its line's next least likely token stands in.
    assert [(b.line, b.original, b.alternative) for b in found] == [
        (2, " limit", " max"),
        (3, "        return", "        yield"),
    ]
    first = found[0]
    assert first.start == '    """Docs."""\n    # a comment\n    if size >= max'
    assert first.rest == ":\n        return 1\n"


def test_branches_stop_at_the_count_and_come_in_the_order_of_the_text():
    assert [b.line for b in branches(TEXT, DOUBTS, 1, frozenset({0}))] == [2]
    unskipped = branches(TEXT, DOUBTS, 3)
    assert [b.line for b in unskipped] == [0, 2, 3]  # the docstring counts when not skipped
    assert [len(b.start) for b in unskipped] == sorted(len(b.start) for b in unskipped)
