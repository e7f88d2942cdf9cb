"""Markdown code fences around code that holds fences of its own.

Projects documented with mkdocs write docstring examples as ```` ```pycon ```` … ```` ``` ````,
and Rust doc comments hold ```` ``` ```` blocks. A reply cut at the first three backticks, or a
generation stopped there, loses everything after the docstring's own fence: every candidate of
such a function was cut right after `Examples:` and rejected unparsed.

So, as CommonMark says (§4.5): the code is shown in a fence longer than any run of backticks it
holds; a block ends only at a closing fence of the opening's character, at least as long, on a
line of its own indented by at most three spaces; and generation stops only at such a line at
the start of a line. The cut is then checked with the parser: a reply whose model closed with a
shorter fence than it was opened with, or wrote a fence line of its own inside the code, is cut
at the first fence-like line before which the code parses.

The rule is one regular expression; a Markdown library (markdown-it-py) would give the
CommonMark cut but not the parser-checked alternatives, which are the part that needs care.
"""

from __future__ import annotations

import re
import textwrap

from agent.edits import syntax_errors

BACKTICKS = re.compile(r"`{3,}")
FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")  # a closing fence of any length


def fence_for(*texts: str) -> str:
    """The backtick fence to show `texts` in: three backticks, or one more than the longest
    run of three or more backticks that any of them holds."""
    longest = max((len(run) for text in texts for run in BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def opening_fence(reply_prefix: str) -> str:
    """The fence that opens a reply prefix (```` ```python\\n… ```` gives ```` ``` ````)."""
    match = re.match(r"\s*(`{3,}|~{3,})", reply_prefix)
    return match.group(1) if match else "```"


def reply_stop(fence: str) -> str:
    """The stop sequence for a reply opened with `fence`: the closing fence alone on its line
    at column 0. A fence with an info string (```` ```pycon ````) or an indented one (a
    docstring's) does not end generation; the end of the turn or the token cap still does."""
    return "\n" + fence + "\n"


def closes(line: str, fence: str) -> bool:
    """Whether `line` closes a block opened by `fence` (CommonMark)."""
    match = FENCE_LINE.match(line)
    if match is None:
        return False
    return match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)


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
