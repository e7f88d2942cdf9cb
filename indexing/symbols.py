"""Document symbols from a syntax tree and the language's tags query, nested by containment.

A definition's kind comes from its capture (`@definition.function`, `@definition.class`, ...);
a function directly inside a class becomes a method. The hierarchy is rebuilt from the ranges:
a symbol is the child of the smallest earlier symbol that contains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexing.parsing import tags_query

CONTAINERS = {"class", "struct", "interface", "impl", "module", "enum"}


@dataclass
class Symbol:
    name: str
    kind: str  # function, method, class, struct, interface, enum, type, constant, module, ...
    start: tuple[int, int]  # (row, byte column) of the whole definition
    end: tuple[int, int]
    name_start: tuple[int, int]
    name_end: tuple[int, int]
    children: list[Symbol] = field(default_factory=list)


def definitions(tree: Any, language: str) -> list[Symbol]:
    """Every definition in the tree, flat, in source order."""
    import tree_sitter

    query = tags_query(language)
    if query is None or tree is None:
        return []
    found: dict[tuple[int, int], Symbol] = {}
    for _, match in tree_sitter.QueryCursor(query).matches(tree.root_node):
        kinds = [name for name in match if name.startswith("definition.")]
        names = match.get("name")
        if not kinds or not names:
            continue
        node = match[kinds[0]][0]
        name = names[0]
        key = (node.start_byte, node.end_byte)
        if key in found:
            continue
        found[key] = Symbol(
            name=(name.text or b"").decode("utf-8", errors="replace"),
            kind=kinds[0].split(".", 1)[1],
            start=node.start_point,
            end=node.end_point,
            name_start=name.start_point,
            name_end=name.end_point,
        )
    return sorted(found.values(), key=lambda s: (s.start, (-s.end[0], -s.end[1])))


def document_symbols(tree: Any, language: str) -> list[Symbol]:
    """The definitions nested by containment: classes hold their methods, and so on."""
    roots: list[Symbol] = []
    stack: list[Symbol] = []
    for symbol in definitions(tree, language):
        while stack and not (symbol.end <= stack[-1].end):
            stack.pop()
        if stack:
            parent = stack[-1]
            if symbol.kind == "function" and parent.kind in CONTAINERS:
                symbol.kind = "method"
            parent.children.append(symbol)
        else:
            roots.append(symbol)
        stack.append(symbol)
    return roots


def flatten(symbols: list[Symbol]) -> list[Symbol]:
    """Every symbol of a tree of them, parents before their children."""
    out = []
    for symbol in symbols:
        out += [symbol, *flatten(symbol.children)]
    return out
