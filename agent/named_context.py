"""The other definitions a task names, as code, for the prompt that rewrites a function.

"Implement singularize again, the reverse of pluralize": shown only the stub, the 1.5B invents
its own rules, where `pluralize` would show it the module's `PLURALS`, its `UNCOUNTABLES` and
how the two are used. So a function's prompt also shows the definitions of its file that the
task names (not the function itself), each as long as `MAX_LINES` allows.
"""

from __future__ import annotations

import re
import textwrap

from agent.class_context import NONE, ShownCode
from agent.localize import Region
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import definitions

MAX_LINES = 40
WORD = re.compile(r"[A-Za-z_]\w{3,}")


def named_definitions(
    text: str, region: Region, instruction: str, shown: tuple[str, ...] = ()
) -> ShownCode:
    """The file's functions and classes that the instruction names, other than the region's
    and those `shown` already, in source order, within the line budget."""
    language = language_for(None, region.path)
    if region.kind != "function" or language is None:
        return NONE
    named = set(WORD.findall(instruction)) - {region.name, *shown}
    if not named:
        return NONE
    tree = parse(text.encode("utf-8"), language)
    symbols = definitions(tree, language) if tree is not None else []
    lines = text.split("\n")
    chosen, budget = [], MAX_LINES
    for symbol in symbols:
        size = symbol.end[0] - symbol.start[0] + 2
        inside = symbol.start[0] <= region.first <= symbol.end[0]
        if symbol.name in named and not inside and size <= budget:
            chosen.append(symbol)
            budget -= size
            named.discard(symbol.name)  # one definition a name: the first
    if not chosen:
        return NONE
    blocks = [textwrap.dedent("\n".join(lines[s.start[0] : s.end[0] + 1])) for s in chosen]
    return ShownCode("\n\n".join(blocks), False, tuple(s.name for s in chosen))
