"""Rewrites that start where the model doubts the code (inference.doubts).

When the greedy rewrite gives the code back unchanged, the model's likeliest reply is a copy.
Each branch here copies the original up to one of the tokens the model found least likely,
takes the model's own likeliest alternative there, and leaves the rest to greedy decoding. What
counts as a doubt is code: not the docstring or a comment, and not an alternative that only
moves whitespace or opens a comment (a line break one token early changes nothing), and not
the text's last token: the model scores it low because a reply's last line would merge with the
line break and fence after it (`))` against `))\n`): p = 0.003 to 0.02 on most functions of the
real suite.

A line offers two branches: its first token, where the model's alternative is another statement
(the one a deleted line held, or only another style), and its least likely token after that,
where the alternative is another operand or operator. With one a line, `ordinal`'s `% 10 in`
lost its branch at ` in` (alternative `0`, for `% 100`) to the line's ` if` (alternative
` suffix`), which the 1.5B found a little less likely.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.doubts import TokenDoubt


@dataclass(frozen=True)
class Branch:
    start: str  # the original up to the doubted token, then the alternative
    rest: str  # the original after the doubted token: the draft for the greedy remainder
    line: int  # 0-based, within the text
    original: str
    alternative: str
    probability: float  # the model's probability for the original token


def _alternative(doubt: TokenDoubt) -> str | None:
    for text, _ in doubt.alternatives:
        if text.strip() == doubt.text.strip() or "`" in text or text.strip().startswith("#"):
            continue
        if not text.strip():
            continue
        return text
    return None


def branches(
    text: str, doubts: list[TokenDoubt], count: int, skip_lines: frozenset[int] = frozenset()
) -> list[Branch]:
    """At most `count` branches, at most two a line (at its first token, and within it), from
    the least likely code tokens of `text`; ordered by where they start (so that each prompt
    reuses the last one's cache)."""
    lines = text.split("\n")
    found: dict[tuple[int, bool], Branch] = {}
    for doubt in sorted(doubts, key=lambda d: d.probability):
        if len(found) >= count:
            break
        line = text[: doubt.offset].count("\n")
        first = not text[text.rfind("\n", 0, doubt.offset) + 1 : doubt.offset].strip()
        if (line, first) in found or line in skip_lines or line >= len(lines):
            continue
        end = doubt.offset + len(doubt.text)
        if lines[line].strip().startswith("#") or not doubt.text.strip() or not text[end:].strip():
            continue
        alternative = _alternative(doubt)
        if alternative is None:
            continue
        start = text[: doubt.offset] + alternative
        found[line, first] = Branch(start, text[end:], line, doubt.text, alternative,
                                    doubt.probability)  # fmt: skip
    return sorted(found.values(), key=lambda b: len(b.start))
