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


def test_branches_take_each_line_s_first_token_and_its_least_likely_other_code_token():
    found = branches(TEXT, DOUBTS, 5, skip_lines=frozenset({0}))
    # The last token (` 1`, p = 0.8) is no doubt: a reply's last line merges with what follows
    # it. Its line's first token stands in.
    assert [(b.line, b.original, b.alternative) for b in found] == [
        (2, "    if", "    while"),
        (2, " limit", " max"),
        (3, "        return", "        yield"),
    ]
    first = found[1]
    assert first.start == '    """Docs."""\n    # a comment\n    if size >= max'
    assert first.rest == ":\n        return 1\n"


def test_branches_stop_at_the_count_and_come_in_the_order_of_the_text():
    assert [b.line for b in branches(TEXT, DOUBTS, 1, frozenset({0}))] == [2]
    unskipped = branches(TEXT, DOUBTS, 3)
    assert [b.line for b in unskipped] == [0, 0, 2]  # the docstring counts when not skipped
    assert [len(b.start) for b in unskipped] == sorted(len(b.start) for b in unskipped)


def test_a_line_s_first_token_does_not_take_the_branch_of_a_likelier_operand():
    """`ordinal` on the 1.5B: the bug's line doubted its ` if` (p 0.858) a little more than
    the ` in` whose alternative `0` makes `% 10` into the fix, `% 100`."""
    text = "    if number % 10 in (11, 12):\n        return 'th'\n    return 'st'\n"
    doubts = scored([
        ("    if", 0.858, [("    suffix", 0.1)]), (" number", 0.99, []), (" %", 0.99, []),
        (" 10", 0.99, []), (" in", 0.87, [("0", 0.11)]), (" (", 0.99, []), ("11", 0.99, []),
        (",", 0.99, []), (" 12", 0.99, []), ("):\n", 0.99, []),
        ("        return", 0.86, [("        if", 0.1)]), (" 'th'\n", 0.99, []),
        ("    return", 0.95, [("    if", 0.04)]), (" 'st'\n", 0.99, []),
    ])  # fmt: skip
    found = branches(text, doubts, 3)
    assert (0, " in", "0") in [(b.line, b.original, b.alternative) for b in found]
    assert found[1].start == "    if number % 10" + "0"
