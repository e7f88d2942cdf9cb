"""What the index keeps of one file: its definitions, references, imports and chunks.

One pass of the language's tags query gives definitions (with their container, so a method
knows its class) and references (calls, type uses, imports). Imports are read from the tree
directly for the languages whose import syntax retrieval resolves (Python, JavaScript,
TypeScript); elsewhere definitions are found by name alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from indexing.chunks import Chunk, chunk_file
from indexing.parsing import parse, tags_query
from indexing.symbols import CONTAINERS

SIGNATURE_LINES = 4


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    container: str  # the enclosing class or module-like definition's name, or ""
    start_row: int
    end_row: int
    name_row: int
    name_col: int  # byte column
    signature: str


@dataclass(frozen=True)
class Import:
    local_name: str  # the name the file uses
    module: str  # as written: "pkg.mod", ".mod", "./util"
    imported_name: str  # the name in that module; "" for the module itself


@dataclass
class FileFacts:
    language: str | None
    parsed: bool
    definitions: list[Definition] = field(default_factory=list)
    # (name, kind) -> uses; kind is call, class, type or import. Positions are not kept:
    # textDocument/references finds them on demand.
    references: Counter[tuple[str, str]] = field(default_factory=Counter)
    imports: list[Import] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


def signature_of(lines: list[str], start_row: int, end_row: int) -> str:
    """The header of a definition: its first lines up to the end of the parameter list."""
    out: list[str] = []
    for row in range(start_row, min(end_row, start_row + SIGNATURE_LINES - 1) + 1):
        line = lines[row] if row < len(lines) else ""
        out.append(line)
        stripped = line.rstrip()
        if stripped.endswith((":", "{", ";", "=>")) or (row == start_row and row == end_row):
            break
    return "\n".join(out).rstrip()


def _text(node: Any) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _python_imports(root: Any) -> list[Import]:
    found: list[Import] = []
    for node in root.children:
        if node.type == "import_from_statement":
            module_node = node.child_by_field_name("module_name")
            module = _text(module_node) if module_node is not None else ""
            for name in node.children_by_field_name("name"):
                if name.type == "aliased_import":
                    original = name.child_by_field_name("name")
                    alias = name.child_by_field_name("alias")
                    if original is not None and alias is not None:
                        found.append(Import(_text(alias), module, _text(original)))
                else:
                    found.append(Import(_text(name).split(".")[-1], module, _text(name)))
        elif node.type == "import_statement":
            for name in node.children_by_field_name("name"):
                if name.type == "aliased_import":
                    original = name.child_by_field_name("name")
                    alias = name.child_by_field_name("alias")
                    if original is not None and alias is not None:
                        found.append(Import(_text(alias), _text(original), ""))
                else:
                    dotted = _text(name)
                    found.append(Import(dotted.split(".")[0], dotted, ""))
    return found


def _js_imports(root: Any) -> list[Import]:
    found: list[Import] = []
    for node in root.children:
        if node.type != "import_statement":
            continue
        source = node.child_by_field_name("source")
        if source is None:
            continue
        module = _text(source).strip("'\"`")
        for clause in node.children:
            if clause.type != "import_clause":
                continue
            for part in clause.children:
                if part.type == "identifier":  # import x from "m"
                    found.append(Import(_text(part), module, "default"))
                elif part.type == "namespace_import":  # import * as x from "m"
                    names = [c for c in part.children if c.type == "identifier"]
                    if names:
                        found.append(Import(_text(names[-1]), module, ""))
                elif part.type == "named_imports":
                    for spec in part.children:
                        if spec.type != "import_specifier":
                            continue
                        original = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias")
                        if original is not None:
                            local = alias if alias is not None else original
                            found.append(Import(_text(local), module, _text(original)))
    return found


IMPORT_READERS = {
    "python": _python_imports,
    "javascript": _js_imports,
    "typescript": _js_imports,
    "tsx": _js_imports,
}


def _tagged(
    tree: Any, language: str, lines: list[str]
) -> tuple[list[Definition], Counter[tuple[str, str]]]:
    import tree_sitter

    query = tags_query(language)
    if query is None:
        return [], Counter()
    raw: dict[tuple[int, int], tuple[str, str, Any, Any]] = {}
    references: Counter[tuple[str, str]] = Counter()
    for _, match in tree_sitter.QueryCursor(query).matches(tree.root_node):
        names = match.get("name")
        if not names:
            continue
        name_node = names[0]
        for capture, nodes in match.items():
            if capture[0] == "r":  # reference.<kind>: counted, the hot path on big files
                references[(_text(name_node), capture[10:])] += 1
                break
            if capture.startswith("definition."):
                node = nodes[0]
                key = (node.start_byte, node.end_byte)
                if key not in raw:
                    raw[key] = (_text(name_node), capture[11:], node, name_node)
                break
    definitions: list[Definition] = []
    stack: list[tuple[int, str, str]] = []  # (end byte, name, kind) of open containers
    for (_start_byte, end_byte), (name, kind, node, name_node) in sorted(
        raw.items(), key=lambda item: (item[0][0], -item[0][1])
    ):
        while stack and stack[-1][0] < end_byte:
            stack.pop()
        container = stack[-1][1] if stack else ""
        if kind == "function" and stack and stack[-1][2] in CONTAINERS:
            kind = "method"
        start_row, end_row = node.start_point[0], node.end_point[0]
        name_row, name_col = name_node.start_point
        signature = signature_of(lines, start_row, end_row)
        definitions.append(
            Definition(name, kind, container, start_row, end_row, name_row, name_col, signature)
        )
        stack.append((end_byte, name, kind))
    return definitions, references


def extract(text: str, language: str | None) -> FileFacts:
    """Everything the index stores for one file. Never raises on bad input: a file that cannot
    be parsed still gets plain line-window chunks."""
    source = text.encode("utf-8", errors="replace")
    tree = parse(source, language) if language else None
    lines = text.split("\n")
    facts = FileFacts(language, tree is not None, chunks=chunk_file(text, tree))
    if tree is None or language is None:
        return facts
    facts.definitions, facts.references = _tagged(tree, language, lines)
    reader = IMPORT_READERS.get(language)
    if reader is not None:
        facts.imports = reader(tree.root_node)
    return facts
