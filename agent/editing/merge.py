"""Merging a partial rewrite back by definition.

Shown a whole file (or a class), a small model often answers with only the function it
changed. Spliced over the region as it is, that answer deletes everything else and is
rejected. Merged by name instead, each definition the answer holds replaces the original one
of the same name, a definition it adds goes after the one before it, a new import joins the
imports, and whatever the answer left out stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexing.parsing import parse
from indexing.symbols import Symbol, document_symbols, flatten

IMPORT = re.compile(r"^(?:import\s+\w|from\s+[\w.]+\s+import\s)")


@dataclass(frozen=True)
class _Change:
    first: int  # 0-based rows of the original; first > last inserts before `first`
    last: int
    lines: tuple[str, ...]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _block(lines: list[str], symbol: Symbol, indent: str) -> tuple[str, ...]:
    """The symbol's lines, moved to `indent`."""
    block = lines[symbol.start[0] : symbol.end[0] + 1]
    given = _indent(block[0])
    if given == indent:
        return tuple(block)
    return tuple(
        indent + line[len(given) :] if line.startswith(given) else line if line.strip() else ""
        for line in block
    )


def _symbols(code: str, language: str) -> list[Symbol] | None:
    tree = parse(code.encode("utf-8"), language)
    if tree is None or tree.root_node.has_error:
        return None
    return document_symbols(tree, language)


class _Plan:
    def __init__(self, original: list[str], rewrite: list[str], everything: list[Symbol]):
        self.original, self.rewrite = original, rewrite
        self.everything = everything  # every original symbol, for answers that moved one up
        self.top: list[Symbol] = []
        self.used: set[int] = set()
        self.changes: list[_Change] = []
        self.matched = 0
        self.ambiguous = False  # a new top-level name that several originals have

    def _find(self, symbol: Symbol, siblings: list[Symbol], top: bool) -> Symbol | None:
        for pool in (siblings, self.everything):
            same = [s for s in pool if s.name == symbol.name and id(s) not in self.used]
            if pool is self.everything and len(same) > 1:
                # A bare method name that several classes define: where it goes is a guess.
                self.ambiguous = self.ambiguous or top
                return None
            if same:
                return same[0]
        return None

    def merge(self, answer: list[Symbol], siblings: list[Symbol], end: int) -> None:
        """Merges the answer's symbols into `siblings` (original symbols of one level);
        `end` is the row that new symbols go before when nothing precedes them."""
        anchor = None  # the original symbol the previous answer symbol replaced
        pending: list[Symbol] = []  # new symbols waiting for a place
        for symbol in answer:
            match = self._find(symbol, siblings, siblings is self.top)
            if match is None:
                pending.append(symbol)
                continue
            self.used.add(id(match))
            self.matched += 1
            self._place(pending, anchor, match)
            pending = []
            anchor = match
            names = {c.name for c in symbol.children}
            lost = [c for c in match.children if c.name not in names]
            if lost and symbol.children:  # a class that kept only some of its members
                self.merge(symbol.children, match.children, match.end[0] + 1)
            else:
                indent = _indent(self.original[match.start[0]])
                self.changes.append(
                    _Change(match.start[0], match.end[0], _block(self.rewrite, symbol, indent))
                )
        if pending:
            self._place(pending, anchor, None, end)

    def _place(
        self, new: list[Symbol], after: Symbol | None, before: Symbol | None, end: int = 0
    ) -> None:
        if not new:
            return
        reference = after or before
        indent = _indent(self.original[reference.start[0]]) if reference else ""
        lines: list[str] = []
        for symbol in new:
            lines += ["", *_block(self.rewrite, symbol, indent)]
        if after is not None:
            row = after.end[0] + 1
            self.changes.append(_Change(row, row - 1, tuple(lines)))
        elif before is not None:
            row = before.start[0]
            self.changes.append(_Change(row, row - 1, (*lines[1:], "")))
        else:
            self.changes.append(_Change(end, end - 1, tuple(lines)))


def _new_imports(original: list[str], rewrite: list[str]) -> _Change | None:
    have = {line.strip() for line in original}
    new = tuple(line for line in rewrite if IMPORT.match(line) and line.strip() not in have)
    if not new:
        return None
    rows = [i for i, line in enumerate(original) if IMPORT.match(line)]
    row = rows[-1] + 1 if rows else 0
    return _Change(row, row - 1, new)


def merge_rewrite(original: str, rewrite: str, language: str) -> str | None:
    """`original` with the definitions of `rewrite` merged in by name (see the module's
    docstring); None when the two share no definition, when a new name could go in more
    than one place, or when either does not parse."""
    before, after = _symbols(original, language), _symbols(rewrite, language)
    if not before or not after:
        return None
    lines, answer = original.split("\n"), rewrite.split("\n")
    plan = _Plan(lines, answer, flatten(before))
    plan.top = before
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    plan.merge(after, before, end)
    if not plan.matched or plan.ambiguous:
        return None
    imports = _new_imports(lines, answer)
    changes = plan.changes + ([imports] if imports else [])
    # Bottom up, so that each change's rows still mean what they meant; at one row, an
    # insertion goes in after the replacement that ends just above it.
    for change in sorted(changes, key=lambda c: (c.first, c.last), reverse=True):
        lines[change.first : change.last + 1] = list(change.lines)
    return "\n".join(lines)
