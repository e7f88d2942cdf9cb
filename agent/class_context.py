"""The rest of a method's class, as code, for the prompt that rewrites the method.

A method's bug is often a disagreement with its siblings: an LFU cache's `__getitem__` counts
up (`+= 1`) where `__setitem__` counts down and `popitem` takes `most_common(1)`; an LRU
cache's `__getitem__` forgets the `self.__update(key)` that `__setitem__` calls; `Cache.pop`
compares with `__marker`, the class attribute every other method reads as `self.__marker`.
Shown the method alone, with only its siblings' signatures, the 1.5B cannot see any of that.
So the prompt shows the class's own attributes and the sibling methods that share the most
with the method (the attributes it reads, then `__init__`, then the nearest), as far as a
line budget allows. A reply that copies those siblings after the method has them dropped:
they stay as they are (`drop_copied_members`).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from agent.localize import Region
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import Symbol, definitions, document_symbols

MAX_LINES = 40
MAX_MEMBER_LINES = 20
MAX_FIELD_LINES = 8
ATTRIBUTE = re.compile(r"\b(?:self|this)\.(\w+)")
CONSTRUCTORS = ("__init__", "constructor", "new")
TRIVIAL = frozenset({"None", "True", "False", "null", "undefined", "self", "this"})


@dataclass(frozen=True)
class ShownCode:
    """Code to show beside the region (empty when there is none), whether it holds every
    sibling, and the names of the definitions it holds."""

    code: str
    complete: bool
    shown: tuple[str, ...]


NONE = ShownCode("", False, ())


def class_context(text: str, region: Region) -> ShownCode:
    """The region's class, less the region itself: its header, its own attributes, and the
    sibling methods chosen as the module's docstring says."""
    language = language_for(None, region.path)
    if region.kind != "function" or language is None:
        return NONE
    tree = parse(text.encode("utf-8"), language)
    symbols = definitions(tree, language) if tree is not None else []
    owner = enclosing_class(symbols, region.first)
    if owner is None:
        return NONE
    lines = text.split("\n")
    members = [
        Member(m.name, _first_decorator(m, owner, lines), m.end[0])
        for m in own_methods(symbols, owner)
    ]
    siblings = [m for m in members if m.name != region.name and m.first != region.first]
    fields = _fields(lines, owner, members)
    wanted = set(ATTRIBUTE.findall("\n".join(lines[region.first : region.last + 1])))
    wanted |= set(re.findall(r"=\s*(\w+)", lines[region.first])) - TRIVIAL  # `default=__marker`
    budget = MAX_LINES - len(fields)
    chosen: list[Member] = []
    for member in sorted(siblings, key=lambda m: _rank(m, lines, wanted, region.first)):
        size = member.last - member.first + 2
        if size - 1 <= MAX_MEMBER_LINES and size <= budget:
            chosen.append(member)
            budget -= size
    if not chosen and not fields:
        return NONE
    body: list[str] = [lines[row] for row in fields]
    for member in sorted(chosen, key=lambda m: m.first):
        body += ([""] if body else []) + lines[member.first : member.last + 1]
    header = lines[owner.start[0] : owner.name_start[0] + 1]
    code = textwrap.dedent("\n".join(header + body))
    complete = len(chosen) == len(siblings)
    return ShownCode(code, complete, tuple(m.name for m in chosen))


@dataclass(frozen=True)
class Member:
    name: str
    first: int  # with its decorators
    last: int


def enclosing_class(symbols: list[Symbol], row: int) -> Symbol | None:
    """The innermost class whose body holds `row`."""
    owners = [s for s in symbols if s.kind == "class" and s.start[0] < row <= s.end[0]]
    return owners[-1] if owners else None


def own_methods(symbols: list[Symbol], owner: Symbol) -> list[Symbol]:
    """The owner's own methods, not a nested class's."""
    nested = [s for s in symbols if s.kind == "class" and s is not owner
              and owner.start[0] < s.start[0] <= owner.end[0]]  # fmt: skip
    return [
        s for s in symbols
        if s.kind in ("method", "function") and owner.start[0] < s.start[0] <= owner.end[0]
        and not any(n.start[0] <= s.start[0] <= n.end[0] for n in nested)
    ]  # fmt: skip


def _first_decorator(method: Symbol, owner: Symbol, lines: list[str]) -> int:
    first = method.start[0]
    while first - 1 > owner.start[0] and lines[first - 1].strip().startswith("@"):
        first -= 1
    return first


def _fields(lines: list[str], owner: Symbol, members: list[Member]) -> list[int]:
    """Rows of the class's own one-line statements (attributes, fields), not its docstring
    or comments; none when there are more than a few."""
    taken = {row for m in members for row in range(m.first, m.last + 1)}
    rows, in_string = [], False
    for row in range(owner.name_start[0] + 1, owner.end[0] + 1):
        stripped = lines[row].strip()
        quotes = stripped.count('"""') + stripped.count("'''")
        if in_string or quotes:
            in_string = in_string != (quotes % 2 == 1)
            continue
        if row in taken or not stripped or stripped[0] in "#/*}" or stripped.endswith(":"):
            continue
        rows.append(row)
    return rows if len(rows) <= MAX_FIELD_LINES else []


def _rank(member: Member, lines: list[str], wanted: set[str], near: int) -> tuple[int, int]:
    """Siblings that read what the method reads first, then the constructor, then the
    nearest."""
    code = "\n".join(lines[member.first : member.last + 1])
    shared = len(wanted & (set(ATTRIBUTE.findall(code)) | set(re.findall(r"\w+", code))))
    return (-shared - (1 if member.name in CONSTRUCTORS else 0), abs(member.first - near))


def drop_copied_members(code: str, name: str, shown: tuple[str, ...], language: str) -> str:
    """The reply without the definitions after its method that are sibling methods it was
    shown (a small model goes on copying the class); as it is when nothing was copied or it
    does not parse."""
    if not shown:
        return code
    dedented = textwrap.dedent(code)
    tree = parse(dedented.encode("utf-8"), language)
    if tree is None:
        return code
    symbols = document_symbols(tree, language)
    copies = [s for s in symbols if s.name in shown and s.name != name]
    if not copies or all(s.name != name for s in symbols):
        return code
    lines = code.split("\n")
    for symbol in sorted(copies, key=lambda s: s.start[0], reverse=True):
        first = symbol.start[0]
        while first > 0 and lines[first - 1].strip().startswith("@"):
            first -= 1
        del lines[first : symbol.end[0] + 1]
    return "\n".join(lines).rstrip()
