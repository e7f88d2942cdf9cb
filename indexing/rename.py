"""Rename from the index, exactly or not at all. No model.

A local variable or parameter is renamed within its function. Anything else is renamed in
every file where the occurrence resolves (through the file's own definitions or its imports)
to the very definition under the cursor. An occurrence that could be the symbol but cannot be
proven to be (found by name alone, or `obj.name` with no type to go by) makes the rename refuse
with the place named: a guessed rename would silently break code.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexing.languages import language_for
from indexing.navigation import Navigator, Place
from indexing.parsing import parse
from indexing.scopes import is_member_name, name_at, occurrences_in, text_of

IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")
JS_RESERVED = {"function", "var", "let", "const", "class", "return", "this", "new", "typeof",
               "export", "import", "default", "null", "true", "false", "undefined"}  # fmt: skip
RUST_RESERVED = {"fn", "let", "mut", "impl", "pub", "struct", "enum", "mod", "use", "self",
                 "Self", "match", "loop", "crate", "super", "trait", "where"}  # fmt: skip


class RenameRefused(Exception):
    """The rename cannot be made exactly; the message says why, for the user."""


@dataclass(frozen=True)
class Renaming:
    old_name: str
    places: dict[Path, list[Place]]  # every occurrence to replace, per file


def _node_at(text: str, language: str, byte_offset: int) -> tuple[Any, Any]:
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        raise RenameRefused("this file cannot be parsed")
    node = name_at(tree, byte_offset)
    if node is None:
        raise RenameRefused("there is no name here to rename")
    return tree, node


def prepare(navigator: Navigator, path: Path, text: str, language: str, byte_offset: int) -> Place:
    """The range of the name under the cursor, if it can be renamed at all."""
    tree, node = _node_at(text, language, byte_offset)
    if is_member_name(node):
        raise RenameRefused(
            f"`{text_of(node)}` is an attribute: without types it is ambiguous which one it is"
        )
    places, _, _ = navigator.resolve_how(navigator.index.relative(path), language, tree, node)
    if not places:
        raise RenameRefused(f"`{text_of(node)}` is not defined in this workspace")
    row, col = node.start_point
    return Place(path, row, col, node.end_point[1])


def _check_new_name(new_name: str, language: str) -> None:
    reserved = keyword.iskeyword(new_name) if language == "python" else False
    reserved = reserved or (
        language in ("javascript", "typescript", "tsx") and new_name in JS_RESERVED
    )
    reserved = reserved or (language == "rust" and new_name in RUST_RESERVED)
    if not IDENTIFIER.match(new_name) or reserved:
        raise RenameRefused(f"`{new_name}` is not a valid name here")


def rename(
    navigator: Navigator, path: Path, text: str, language: str, byte_offset: int, new_name: str
) -> Renaming:
    _check_new_name(new_name, language)
    tree, node = _node_at(text, language, byte_offset)
    name = text_of(node)
    if new_name == name:
        raise RenameRefused("the new name is the old name")
    if is_member_name(node):
        raise RenameRefused(
            f"`{name}` is an attribute: without types it is ambiguous which one it is"
        )
    relative = navigator.index.relative(path)
    places, local, how = navigator.resolve_how(relative, language, tree, node)
    if local is not None:
        scope = local[0]
        if any(text_of(n) == new_name for n in occurrences_in(scope, new_name, language)):
            raise RenameRefused(f"`{new_name}` is already used in this function")
        found = [
            Place(path, n.start_point[0], n.start_point[1], n.end_point[1])
            for n in occurrences_in(scope, name, language)
        ]
        return Renaming(name, {path: found})
    targets = {_absolute(p, path) for p in places}
    if not targets:
        raise RenameRefused(f"`{name}` is not defined in this workspace")
    if how == "name" and len(targets) > 1:
        listed = ", ".join(f"{p.path.name}:{p.row + 1}" for p in sorted(targets, key=str)[:4])
        raise RenameRefused(
            f"`{name}` has several definitions ({listed}); which one is meant is ambiguous"
        )
    (target,) = sorted(targets, key=str)[:1]
    defining = navigator.index.relative(target.path)
    if defining is None:
        raise RenameRefused(f"`{name}` is defined outside the workspace")
    if any(
        d.name == new_name and not d.container
        for d in navigator.index.store.definitions_in(defining)
    ):
        raise RenameRefused(f"`{new_name}` is already defined in {defining}")
    files = {path, target.path} | {
        navigator.index.absolute(p) for p in navigator.index.store.reference_paths(name)
    }
    result: dict[Path, list[Place]] = {}
    for file in sorted(files):
        file_text = text if file == path else navigator.read_text(file)
        file_language = language_for(None, str(file))
        if file_text is None or file_language is None:
            continue
        kept = _occurrences_of(navigator, file, file_text, file_language, name, target)
        if kept:
            result[file] = kept
    return Renaming(name, result)


def _absolute(place: Place, current: Path) -> Place:
    return Place(current, place.row, place.col, place.end_col) if place.path == Path() else place


def _occurrences_of(
    navigator: Navigator, file: Path, text: str, language: str, name: str, target: Place
) -> list[Place]:
    """The occurrences of `name` in `file` that resolve to `target`; refuses on any doubt."""
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        return []
    relative = navigator.index.relative(file)
    kept = []
    for place in navigator._named_in_file(file, text, name):
        node = tree.root_node.descendant_for_point_range(
            (place.row, place.col), (place.row, place.end_col)
        )
        if node is None:
            continue
        places, local, how = navigator.resolve_how(relative, language, tree, node)
        if local is not None:
            continue
        where = f"{file.name}:{place.row + 1}"
        if how == "name" and is_member_name(node):
            raise RenameRefused(f"`{name}` at {where} is an attribute that may be this symbol")
        resolved = {(_absolute(p, file).path, p.row, p.col) for p in places}
        if (target.path, target.row, target.col) in resolved:
            if how == "name" and len(resolved) > 1:
                raise RenameRefused(f"`{name}` at {where} may be another symbol")
            kept.append(place)
    if kept and language == "python":
        kept += _dunder_all_entries(tree, name, file)
    return kept


def _dunder_all_entries(tree: Any, name: str, file: Path) -> list[Place]:
    """`__all__ = ["name", ...]` lists the name as a string; it must follow the rename."""
    found = []
    for statement in tree.root_node.children:
        assignment = statement
        if statement.type == "expression_statement" and statement.named_children:
            assignment = statement.named_children[0]
        if assignment is None or assignment.type not in ("assignment", "augmented_assignment"):
            continue
        left = assignment.child_by_field_name("left")
        if left is None or text_of(left) != "__all__":
            continue
        stack = [assignment.child_by_field_name("right")]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.type == "string_content" and text_of(node) == name:
                found.append(
                    Place(file, node.start_point[0], node.start_point[1], node.end_point[1])
                )
            stack.extend(node.children)
    return found
