"""Markdown code fences around code that holds fences of its own: the text rules (CommonMark
§4.5), for every prompt that shows code in a fence and every reply that ends at one.

Projects documented with mkdocs write docstring examples as ```` ```pycon ```` … ```` ``` ````,
and Rust doc comments hold ```` ``` ```` blocks. Code is shown in a fence longer than any run of
backticks it holds; a block ends only at a closing fence of the opening's character, at least
as long, on a line of its own indented by at most three spaces; and generation stops only at
such a line at the start of a line. `agent.editing.fences` cuts replies by these rules and
checks the cut with the parser.
"""

from __future__ import annotations

import re

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
