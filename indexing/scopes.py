"""Local scopes, as far as the grammar shows them: which identifiers bind a name inside a function.

This is what makes go-to-definition and references scope-aware where it matters most: a
parameter or local variable resolves to its binding in the enclosing function, and a
workspace-wide search for a name skips the functions where that name is a different, local
thing. Languages without rules here fall back to name-based lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SCOPES = {
    "python": {"function_definition", "lambda"},
    "javascript": {"function_declaration", "function_expression", "arrow_function",
                   "method_definition", "generator_function_declaration"},
    "go": {"function_declaration", "method_declaration", "func_literal"},
    "rust": {"function_item", "closure_expression"},
}  # fmt: skip
SCOPES["typescript"] = SCOPES["tsx"] = SCOPES["javascript"]

# (parent type, field or None): an identifier there binds a name. None means any position.
BINDINGS = {
    "python": {
        ("parameters", None), ("lambda_parameters", None), ("typed_parameter", None),
        ("default_parameter", "name"), ("typed_default_parameter", "name"),
        ("list_splat_pattern", None), ("dictionary_splat_pattern", None),
        ("assignment", "left"), ("augmented_assignment", "left"), ("for_statement", "left"),
        ("pattern_list", None), ("tuple_pattern", None), ("as_pattern_target", None),
        ("named_expression", "name"), ("for_in_clause", "left"),
    },
    "javascript": {
        ("variable_declarator", "name"), ("formal_parameters", None),
        ("required_parameter", "pattern"), ("optional_parameter", "pattern"),
        ("arrow_function", "parameter"), ("for_in_statement", "left"),
        ("array_pattern", None), ("shorthand_property_identifier_pattern", None),
    },
    "go": {
        ("parameter_declaration", "name"), ("var_spec", "name"), ("const_spec", "name"),
        ("expression_list", None), ("range_clause", "left"),
    },
    "rust": {
        ("let_declaration", "pattern"), ("parameter", "pattern"), ("closure_parameters", None),
        ("tuple_pattern", None),
    },
}  # fmt: skip
BINDINGS["typescript"] = BINDINGS["tsx"] = BINDINGS["javascript"]

NAME_TYPES_EXTRA = {"constant", "name"}


def is_name(node: Any) -> bool:
    return node.type.endswith("identifier") or node.type in NAME_TYPES_EXTRA


def is_member_name(node: Any) -> bool:
    """`obj.name` or a keyword argument `name=`: not a use of a variable called `name`."""
    parent = node.parent
    if parent is None:
        return False
    for parent_type, field in (
        ("attribute", "attribute"),
        ("keyword_argument", "name"),
        ("field_expression", "field"),
        ("selector_expression", "field"),
    ):
        if parent.type == parent_type:
            member = parent.child_by_field_name(field)
            return member is not None and member.start_byte == node.start_byte
    return False


def text_of(node: Any) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def name_at(tree: Any, byte_offset: int) -> Any | None:
    """The identifier node under the cursor, or just before it (cursor at a word's end)."""
    root = tree.root_node
    for offset in (byte_offset, byte_offset - 1):
        if offset < 0:
            continue
        node = root.descendant_for_byte_range(offset, offset)
        if node is not None and is_name(node):
            return node
    return None


def binds(node: Any, language: str) -> bool:
    parent = node.parent
    if parent is None:
        return False
    rules = BINDINGS.get(language, set())
    if (parent.type, None) in rules:
        # `x = y` inside an expression list binds only on the left of `:=`/`=` in Go
        if parent.type == "expression_list" and parent.parent is not None:
            grand = parent.parent
            return (
                grand.type == "short_var_declaration"
                and grand.child_by_field_name("left") == parent
            )
        return True
    for parent_type, field in rules:
        if field is not None and parent.type == parent_type:
            bound = parent.child_by_field_name(field)
            if bound is not None and bound.start_byte == node.start_byte:
                return True
    return False


def _names_in_scope(scope: Any, language: str) -> Iterator[Any]:
    """Identifier nodes inside `scope`, not descending into nested scopes (their bindings are
    theirs) except for their parameters' defaults, which belong to the outer scope."""
    scopes = SCOPES.get(language, set())
    stack = list(reversed(scope.children))
    while stack:
        node = stack.pop()
        if is_name(node) and not is_member_name(node):
            yield node
        if node.type in scopes:
            continue
        stack.extend(reversed(node.children))


def enclosing_scopes(node: Any, language: str) -> list[Any]:
    """The function scopes around `node`, innermost first."""
    scopes = SCOPES.get(language, set())
    found = []
    current = node.parent
    while current is not None:
        if current.type in scopes:
            found.append(current)
        current = current.parent
    return found


def local_binding(node: Any, language: str) -> tuple[Any, Any] | None:
    """(scope, binding node) when the name under `node` is local to an enclosing function."""
    name = text_of(node)
    for scope in enclosing_scopes(node, language):
        for candidate in _names_in_scope(scope, language):
            if text_of(candidate) == name and binds(candidate, language):
                return scope, candidate
    return None


def occurrences_in(scope: Any, name: str, language: str) -> list[Any]:
    """Every identifier called `name` in `scope`, nested scopes included unless they rebind it."""
    scopes = SCOPES.get(language, set())
    found = []
    stack = [scope]
    while stack:
        node = stack.pop()
        if is_name(node) and text_of(node) == name and not is_member_name(node):
            found.append(node)
            continue
        for child in node.children:
            if child.type in scopes and any(
                text_of(n) == name and binds(n, language) for n in _names_in_scope(child, language)
            ):
                continue  # shadowed in there: a different variable
            stack.append(child)
    return sorted(found, key=lambda n: n.start_byte)
