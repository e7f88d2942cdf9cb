"""Rewrites that start where the model doubts the code (inference.doubts).

When the greedy rewrite gives the code back unchanged, the model's likeliest reply is a copy.
Each branch here copies the original up to one of the tokens the model found least likely,
takes the model's own likeliest alternative there, and leaves the rest to greedy decoding. What
counts as a doubt is code: not the docstring or a comment, and not an alternative that only
moves whitespace or opens a comment (a line break one token early changes nothing), and not
the text's last token: the model scores it low because a reply's last line would merge with the
line break and fence after it (`))` against `))\n`): p = 0.003 to 0.02 on most functions of the
real suite.
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
    """At most `count` branches, at most one a line, from the least likely code tokens of
    `text`; ordered by where they start (so that each prompt reuses the last one's cache)."""
    lines = text.split("\n")
    found: dict[int, Branch] = {}
    for doubt in sorted(doubts, key=lambda d: d.probability):
        if len(found) >= count:
            break
        line = text[: doubt.offset].count("\n")
        if line in found or line in skip_lines or line >= len(lines):
            continue
        end = doubt.offset + len(doubt.text)
        if lines[line].strip().startswith("#") or not doubt.text.strip() or not text[end:].strip():
            continue
        alternative = _alternative(doubt)
        if alternative is None:
            continue
        found[line] = Branch(text[: doubt.offset] + alternative, text[end:], line, doubt.text,
                             alternative, doubt.probability)  # fmt: skip
    return sorted(found.values(), key=lambda b: len(b.start))
