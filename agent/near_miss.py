"""Neighbours of a candidate that came close: one of its own new numbers off by one, or a
class attribute it named bare.

A small model's nearest misses are often one number away. Asked to drop a trailing `_id`, the
1.5B wrote `if word.endswith('_id'): word = word[:-4]`: the right place and the right idea,
one character too many, and the repair round, shown that and its failure ('Employe'), wrote
`[:-4]` again. So when a candidate changed how the target tests fail and broke nothing else,
its variants with one integer literal that it added or changed moved by one (n - 1, then
n + 1) are judged too, by the same tests. Only the candidate's new lines are varied, and only
numbers in code (tree-sitter: not in strings or comments), so there are a few of them, not a
search over the original.

The other near miss is Python's: inside a method, the 1.5B compares with `__marker`, the class
attribute the method's own signature names bare (`def pop(self, key, default=__marker)`), and
the tests fail with `NameError: name '_Cache__marker' is not defined`. When a candidate's
tests fail with a NameError for a name that the class holds (a class attribute, or one that
its methods set on `self`), the neighbour reads it as `self.name` on the candidate's new lines.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from indexing.parsing import parse

MAX_NEIGHBOURS = 4
NUMBER_NODES = frozenset({"integer", "number", "int_literal", "integer_literal"})
NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
MANGLED = re.compile(r"^_[A-Za-z]\w*?(__\w*[^_\W]_?)$")  # `_Cache__marker`: `__marker`


@dataclass(frozen=True)
class Neighbour:
    text: str  # the whole file
    row: int  # 0-based, the line that differs from the candidate
    before: str  # that line in the candidate
    after: str  # and in the neighbour


def off_by_one(
    original: str, candidate: str, language: str, limit: int = MAX_NEIGHBOURS
) -> list[Neighbour]:
    """Variants of `candidate`, each with one integer literal on a line that it added or
    changed (against `original`) moved by one; the first literals first."""
    tree = parse(candidate.encode("utf-8"), language)
    if tree is None:
        return []
    lines = candidate.split("\n")
    new_rows = _new_rows(original.split("\n"), lines)
    found: list[Neighbour] = []
    for node in _numbers(tree.root_node):
        row = node.start_point[0]
        if row not in new_rows or node.end_point[0] != row or not node.text.isdigit():
            continue
        value = int(node.text)
        line = lines[row].encode("utf-8")
        for moved in (value - 1, value + 1):
            if moved < 0:
                continue
            start, end = node.start_point[1], node.end_point[1]
            after = (line[:start] + str(moved).encode() + line[end:]).decode("utf-8")
            varied = [*lines[:row], after, *lines[row + 1 :]]
            found.append(Neighbour("\n".join(varied), row, lines[row], after))
            if len(found) >= limit:
                return found
    return found


def _new_rows(original: list[str], candidate: list[str]) -> set[int]:
    matcher = difflib.SequenceMatcher(a=original, b=candidate, autojunk=False)
    return {
        row
        for tag, _, _, first, last in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for row in range(first, last)
    }


def _numbers(root: Any) -> list[Any]:
    """The number literals under `root`, in source order."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type in NUMBER_NODES:
            found.append(node)
            continue
        stack.extend(reversed(node.children))
    return found


def self_qualified(
    original: str, candidate: str, messages: list[str], language: str = "python"
) -> Neighbour | None:
    """The candidate with a name that its tests' NameErrors report, and that its class holds,
    read as `self.name` on its new lines; None when there is no such name (Python only)."""
    if language != "python":
        return None
    names = []
    for message in messages:
        for name in NAME_ERROR.findall(message):
            mangled = MANGLED.match(name)
            names.append(mangled.group(1) if mangled else name)
    held = [n for n in dict.fromkeys(names) if _held_by_a_class(original, n)]
    if not held:
        return None
    tree = parse(candidate.encode("utf-8"), "python")
    if tree is None:
        return None
    lines = candidate.split("\n")
    new_rows = _new_rows(original.split("\n"), lines)
    bare = [
        node for node in _identifiers(tree.root_node, held[0]) if node.start_point[0] in new_rows
    ]
    if not bare:
        return None
    encoded = [line.encode("utf-8") for line in lines]
    for node in reversed(bare):  # right to left: the columns before stay where they are
        row, start = node.start_point
        encoded[row] = encoded[row][:start] + b"self." + encoded[row][start:]
    varied = [line.decode("utf-8") for line in encoded]
    row = bare[0].start_point[0]
    return Neighbour("\n".join(varied), row, lines[row], varied[row])


def _held_by_a_class(text: str, name: str) -> bool:
    """Whether a class in `text` assigns `name` in its body or on `self`."""
    escaped = re.escape(name)
    return bool(re.search(rf"^[ \t]+{escaped}\s*(?::[^=\n]*)?=[^=]", text, re.M)
                or re.search(rf"\bself\.{escaped}\s*=[^=]", text))  # fmt: skip


def _identifiers(root: Any, name: str) -> list[Any]:
    """Bare uses of `name` under `root`: not an attribute (`x.name`), a keyword argument's
    name, or a parameter."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type in ("parameters", "lambda_parameters"):
            continue
        if node.type == "identifier" and node.text == name.encode():
            parent = node.parent
            attribute = (
                parent is not None
                and parent.type == "attribute"
                and (parent.child_by_field_name("attribute") == node)
            )
            keyword = (
                parent is not None
                and parent.type == "keyword_argument"
                and (parent.child_by_field_name("name") == node)
            )
            if not attribute and not keyword:
                found.append(node)
        stack.extend(reversed(node.children))
    return sorted(found, key=lambda n: n.start_point)
