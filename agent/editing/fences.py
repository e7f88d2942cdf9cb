"""Cutting a model's reply at its own closing fence, never at a fence inside its code.

A reply cut at the first three backticks, or a generation stopped there, loses everything after
a docstring's own fence (mkdocs' ```` ```pycon ```` examples): every candidate of such a function
was cut right after `Examples:` and rejected unparsed. The fence rules are CommonMark's
(`inference.fences`); the cut is then checked with the parser: a reply whose model closed with a
shorter fence than it was opened with, or wrote a fence line of its own inside the code, is cut
at the first fence-like line before which the code parses.

The rule is one regular expression; a Markdown library (markdown-it-py) would give the
CommonMark cut but not the parser-checked alternatives, which are the part that needs care.
"""

from __future__ import annotations

import textwrap

from agent.editing.edits import syntax_errors
from inference.fences import FENCE_LINE, closes


def code_in_reply(reply: str, fence: str = "```", language: str | None = None) -> str:
    """The code of a reply that starts inside a block opened by `fence`.

    CommonMark's cut first. When `language` is given and the code up to there does not
    parse, the first cut that does among the other fence-like lines and the end of the
    reply; CommonMark's when none does."""
    lines = reply.split("\n")
    commonmark = [row for row, line in enumerate(lines) if closes(line, fence)]
    first = commonmark[0] if commonmark else len(lines)
    code = "\n".join(lines[:first]).strip("\n")
    if language is None or _parses(code, language):
        return code
    others = [row for row, line in enumerate(lines) if FENCE_LINE.match(line) and row != first]
    for row in [*others, len(lines)]:
        cut = "\n".join(lines[:row]).strip("\n")
        if cut.strip() and row != first and _parses(cut, language):
            return cut
    return code


def _parses(code: str, language: str) -> bool:
    errors = syntax_errors(textwrap.dedent(code), language)
    return errors is not None and not errors
