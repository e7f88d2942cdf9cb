"""Python import statements: those a model puts above the one definition it was asked to
rewrite, and those a failing test needs, for the prompt.

Shown a failing test, small models often open their reply with the test file's imports
(`from toolz.utils import raises`, `from toolz.itertoolz import (remove, ...`) and then
write the right fix. Spliced as it is, such a reply pastes a self-import, or a broken line,
above the function, and is thrown out however good the fix. So the leading import lines are
cut from the reply; the ones the new definition needs and the module lacks are moved to the
module's imports, as a person would write them.

The prompt's own share in that: a test's imports are shown whole and only the names the test
uses, never cut off at a line break (`from toolz.itertoolz import (remove, groupby,`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from indexing.parsing import parse

_IMPORT = re.compile(r"^\s*(from\s+[\w.]+\s+import\b|import\s+[\w.])")
_DEFINITION = re.compile(r"^\s*(@|(async\s+)?def\s|class\s)")


class TrimmedReply(NamedTuple):
    code: str  # the reply's code from its definition (or its decorators) on
    imports: tuple[str, ...]  # complete import statements that stood above it


def trim_leading_imports(code: str) -> TrimmedReply:
    """The reply without the import lines above its first definition; as it is when anything
    else stands there (the model then meant it, and the checks judge it)."""
    lines = code.split("\n")
    statements: list[list[str]] = []
    open_parens = 0
    for row, line in enumerate(lines):
        if open_parens > 0 and not _IMPORT.match(line) and not _DEFINITION.match(line):
            statements[-1].append(line)
            open_parens += line.count("(") - line.count(")")
            continue
        open_parens = 0
        if not line.strip():
            continue
        if _DEFINITION.match(line):
            if not statements:
                return TrimmedReply(code, ())
            complete = tuple(_complete("\n".join(s)) for s in statements)
            return TrimmedReply("\n".join(lines[row:]), tuple(s for s in complete if s))
        if not _IMPORT.match(line):
            return TrimmedReply(code, ())
        statements.append([line])
        open_parens = line.count("(") - line.count(")")
    return TrimmedReply(code, ())


def _complete(statement: str) -> str:
    """The statement, dedented, when it parses; "" for a broken one."""
    text = "\n".join(line.strip() for line in statement.split("\n"))
    tree = parse(text.encode("utf-8"), "python")
    if tree is None or tree.root_node.has_error:
        return ""
    return text


def bound_names(statement: str) -> list[str]:
    """The names an import statement binds in the module ('*' binds none we can know)."""
    names = statement.partition(" import ")[2]
    if statement.startswith("import "):
        names = statement[len("import ") :]
    bound = []
    for part in names.strip("()\n ").replace("\n", " ").split(","):
        words = part.split()
        if not words or words[0] == "*":
            continue
        bound.append(words[-1] if "as" in words else words[0].split(".")[0])
    return bound


def _source_module(statement: str) -> str:
    if statement.startswith("from "):
        return statement.split()[1]
    return statement.split()[1].split(",")[0]


def needed_imports(
    imports: tuple[str, ...], definition: str, module_text: str, module: str
) -> list[str]:
    """The imports that bind a name the definition uses and the module does not bind yet.
    Never one from the module's own package (a circular import), nor from its tests."""
    parts = module.split(".")
    package = parts[1] if parts[0] == "src" and len(parts) > 1 else parts[0]
    bound = set(_module_bindings(module_text))
    wanted = []
    for statement in imports:
        source = _source_module(statement)
        if source.startswith(".") or source.split(".")[0] == package or "test" in source:
            continue
        names = [n for n in bound_names(statement) if n not in bound]
        if _uses(definition, names):
            wanted.append(statement)
            bound.update(names)
    return wanted


def _module_bindings(text: str) -> list[str]:
    tree = parse(text.encode("utf-8"), "python")
    if tree is None:
        return []
    names = []
    for node in tree.root_node.named_children:
        if node.type in ("import_statement", "import_from_statement"):
            names += bound_names(" ".join(node.text.decode("utf-8", "replace").split()))
        elif node.type in ("function_definition", "class_definition"):
            name = node.child_by_field_name("name")
            names += [name.text.decode("utf-8")] if name is not None else []
        elif node.type == "expression_statement" and node.named_children:
            target = node.named_children[0].child_by_field_name("left")
            names += [target.text.decode("utf-8")] if target is not None else []
    return names


def add_imports(text: str, imports: list[str], before_row: int) -> str:
    """The module with the imports added after its last top-level import above `before_row`
    (or right above that row when it has none there)."""
    if not imports:
        return text
    tree = parse(text.encode("utf-8"), "python")
    rows = [
        node.end_point[0]
        for node in (tree.root_node.named_children if tree is not None else [])
        if node.type in ("import_statement", "import_from_statement")
        and node.end_point[0] < before_row
    ]
    lines = text.split("\n")
    if rows:
        at = max(rows) + 1
        return "\n".join(lines[:at] + imports + lines[at:])
    return "\n".join(lines[:before_row] + imports + ["", ""] + lines[before_row:])


def imports_used_by(text: str, code: str) -> list[str]:
    """The module's top-level imports that bind a name `code` uses, each as one line with
    only those names (`from toolz.itertoolz import unique`)."""
    tree = parse(text.encode("utf-8"), "python")
    used = []
    for node in tree.root_node.named_children if tree is not None else []:
        if node.type not in ("import_statement", "import_from_statement"):
            continue
        statement = " ".join(node.text.decode("utf-8", "replace").split())
        head, _, names = statement.partition(" import ")
        parts = [p.strip() for p in names.strip("() ").split(",")] if names else []
        if statement.startswith("import "):
            head, parts = "", [p.strip() for p in statement[len("import ") :].split(",")]
        kept = [p for p in parts if p and _uses(code, bound_names(f"import {p}"))]
        if kept:
            used.append(f"{head} import {', '.join(kept)}" if head else f"import {', '.join(kept)}")
    return used


def _uses(code: str, names: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(n)}\b", code) for n in names)
