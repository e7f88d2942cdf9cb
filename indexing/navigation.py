"""Go to definition, find references and workspace symbols, from the index. No model needed.

Best effort, and documented as such in the README: names are resolved through local scopes
(indexing.scopes), then the file's own definitions, then its imports (Python and JS/TS), then
by name across the workspace. References are every identifier with that name in the files the
full-text index says mention it, minus the functions where the name is a different, local
variable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from indexing import fuzzy
from indexing.facts import IMPORT_READERS, Import
from indexing.languages import language_for
from indexing.modules import resolve_module, submodule
from indexing.parsing import parse
from indexing.scopes import (
    is_member_name,
    local_binding,
    name_at,
    occurrences_in,
    text_of,
)
from indexing.store import DefinitionRow
from indexing.symbols import definitions as tree_definitions
from indexing.workspace import WorkspaceIndex

MAX_REFERENCE_FILES = 300
MAX_REFERENCES = 2000
MAX_IMPORT_HOPS = 3

ReadText = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Place:
    path: Path
    row: int
    col: int  # byte columns, as tree-sitter counts
    end_col: int


@dataclass(frozen=True)
class SymbolHit:
    name: str
    kind: str
    container: str
    path: Path
    start_row: int
    end_row: int
    name_row: int
    name_col: int


def read_disk(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _place(path: Path, node: Any) -> Place:
    row, col = node.start_point
    end_col = node.end_point[1] if node.end_point[0] == row else col
    return Place(path, row, col, end_col)


class Navigator:
    def __init__(self, index: WorkspaceIndex, read_text: ReadText = read_disk) -> None:
        self.index = index
        self.read_text = read_text
        self._cache_lock = threading.Lock()
        self._names: tuple[int, list[str]] = (-1, [])
        self._paths: tuple[int, frozenset[str]] = (-1, frozenset())

    # -- cached views of the index --------------------------------------------------------

    def paths(self) -> frozenset[str]:
        generation = self.index.generation
        with self._cache_lock:
            if self._paths[0] != generation:
                self._paths = (generation, frozenset(self.index.store.files()))
            return self._paths[1]

    def _definition_names(self) -> list[str]:
        generation = self.index.generation
        with self._cache_lock:
            if self._names[0] != generation:
                self._names = (generation, self.index.store.definition_names())
            return self._names[1]

    # -- definitions -----------------------------------------------------------------------

    def _row_place(self, row: DefinitionRow) -> Place:
        return Place(
            self.index.absolute(row.path), row.name_row, row.name_col,
            row.name_col + len(row.name.encode("utf-8")),
        )  # fmt: skip

    def _through_imports(
        self, relative: str, imports: list[Import], name: str, hops: int = 0
    ) -> list[DefinitionRow]:
        """Definitions that `name`, as imported by the file `relative`, refers to."""
        language = language_for(None, relative)
        paths = self.paths()
        found: list[DefinitionRow] = []
        for imported in imports:
            if imported.local_name != name:
                continue
            target_name = imported.imported_name
            for target in resolve_module(relative, imported.module, language, paths):
                if target_name in ("", "default"):
                    found.extend(self._module_row(target))
                    continue
                here = [d for d in self.index.store.definitions_in(target) if d.name == target_name
                        and not d.container]  # fmt: skip
                if here:
                    found.extend(here)
                elif hops < MAX_IMPORT_HOPS:  # re-exported: follow the chain
                    onward = [Import(*row) for row in self.index.store.imports_of(target)]
                    found.extend(self._through_imports(target, onward, target_name, hops + 1))
            if not found and target_name:  # `from pkg import module`
                module = submodule(imported.module, target_name)
                for target in resolve_module(relative, module, language, paths):
                    found.extend(self._module_row(target))
        return found

    def _module_row(self, relative: str) -> list[DefinitionRow]:
        stem = PurePosixPath(relative).stem
        return [DefinitionRow(relative, stem, "module", "", 0, 0, 0, 0, "")]

    def resolve(
        self, relative: str | None, text: str, language: str, tree: Any, node: Any
    ) -> tuple[list[Place], tuple[Any, Any] | None]:
        """Where the name under `node` is defined, and its local scope when it is local."""
        places, local, _ = self.resolve_how(relative, language, tree, node)
        return places, local

    def resolve_how(
        self, relative: str | None, language: str, tree: Any, node: Any
    ) -> tuple[list[Place], tuple[Any, Any] | None, str]:
        """Like `resolve`, also saying how: "local", "file", "import" or "name" (a guess by
        name alone). Places in the file itself have an empty path."""
        name = text_of(node)
        member = is_member_name(node)
        if not member:
            local = local_binding(node, language)
            if local is not None:
                return [_place(Path(), local[1])], local, "local"
        own = [d for d in tree_definitions(tree, language) if d.name == name]
        if own and not member:
            return (
                [Place(Path(), d.name_start[0], d.name_start[1], d.name_end[1]) for d in own],
                None,
                "file",
            )
        rows: list[DefinitionRow] = []
        reader = IMPORT_READERS.get(language)
        if relative is not None and reader is not None:
            imports = reader(tree.root_node)
            if member:  # `module.name`: look inside the module the object names
                target = node.parent.child_by_field_name("object")
                if target is not None:
                    qualifier = text_of(target)
                    for imported in imports:
                        if imported.local_name == qualifier:
                            module = imported.module
                            if imported.imported_name not in ("", "default"):
                                module = submodule(module, imported.imported_name)
                            paths = self.paths()
                            for path in resolve_module(relative, module, language, paths):
                                rows += [d for d in self.index.store.definitions_in(path)
                                         if d.name == name]  # fmt: skip
            else:
                rows = self._through_imports(relative, imports, name)
        if rows:
            return [self._row_place(row) for row in rows], None, "import"
        if own:
            return (
                [Place(Path(), d.name_start[0], d.name_start[1], d.name_end[1]) for d in own],
                None,
                "file",
            )
        rows = self._by_name(relative, name, prefer_members=member)
        return [self._row_place(row) for row in rows], None, "name"

    def _by_name(
        self, relative: str | None, name: str, prefer_members: bool
    ) -> list[DefinitionRow]:
        rows = self.index.store.definitions_named(name)
        here = str(PurePosixPath(relative).parent) if relative else ""

        def rank(row: DefinitionRow) -> tuple[int, int, int, str]:
            return (
                0 if row.path == relative else 1,
                0 if str(PurePosixPath(row.path).parent) == here else 1,
                0 if bool(row.container) == prefer_members else 1,
                row.path,
            )

        return sorted(rows, key=rank)[:20]

    @staticmethod
    def _name_under(text: str, language: str, byte_offset: int) -> tuple[Any, Any] | None:
        tree = parse(text.encode("utf-8"), language)
        node = name_at(tree, byte_offset) if tree is not None else None
        return (tree, node) if node is not None else None

    @staticmethod
    def _in(path: Path, places: list[Place]) -> list[Place]:
        """Places in the file itself (empty path) given their file."""
        return [Place(path, p.row, p.col, p.end_col) if p.path == Path() else p for p in places]

    def definition(self, path: Path, text: str, language: str, byte_offset: int) -> list[Place]:
        found = self._name_under(text, language, byte_offset)
        if found is None:
            return []
        places, _ = self.resolve(self.index.relative(path), text, language, *found)
        return self._in(path, places)

    # -- references ------------------------------------------------------------------------

    def references(
        self,
        path: Path,
        text: str,
        language: str,
        byte_offset: int,
        include_declaration: bool = True,
    ) -> list[Place]:
        found_name = self._name_under(text, language, byte_offset)
        if found_name is None:
            return []
        tree, node = found_name
        name = text_of(node)
        relative = self.index.relative(path)
        targets, local = self.resolve(relative, text, language, tree, node)
        targets = self._in(path, targets)
        declarations = {(t.path, t.row, t.col) for t in targets}
        if local is not None:
            found = [_place(path, n) for n in occurrences_in(local[0], name, language)]
        else:
            found = []
            files = [path] + [
                self.index.absolute(p)
                for p in self.index.store.reference_paths(name, MAX_REFERENCE_FILES)
                if p != relative
            ]
            for file in files:
                found += self._named_in_file(file, text if file == path else None, name)
                if len(found) >= MAX_REFERENCES:
                    break
        if not include_declaration:
            found = [p for p in found if (p.path, p.row, p.col) not in declarations]
        return found[:MAX_REFERENCES]

    def _named_in_file(self, path: Path, text: str | None, name: str) -> list[Place]:
        """Identifiers called `name` in one file that are not a local variable of that name."""
        if text is None:
            text = self.read_text(path)
        language = language_for(None, str(path))
        if text is None or language is None:
            return []
        source = text.encode("utf-8")
        pattern = re.compile(rb"(?<![\w$])" + re.escape(name.encode("utf-8")) + rb"(?![\w$])")
        matches = list(pattern.finditer(source))
        if not matches:
            return []
        tree = parse(source, language)
        if tree is None:
            return []
        places = []
        for match in matches:
            node = tree.root_node.descendant_for_byte_range(match.start(), match.end())
            if node is None or node.start_byte != match.start() or node.end_byte != match.end():
                continue  # inside a string or a comment
            if not (node.type.endswith("identifier") or node.type in ("constant", "name")):
                continue
            if not is_member_name(node) and local_binding(node, language) is not None:
                continue  # a local variable that happens to share the name
            places.append(_place(path, node))
        return places

    # -- workspace symbols -----------------------------------------------------------------

    def workspace_symbols(self, query: str, limit: int = 100) -> list[SymbolHit]:
        names = fuzzy.rank(query.strip(), self._definition_names(), limit)
        hits: list[SymbolHit] = []
        kind_rank = {"class": 0, "interface": 0, "struct": 0, "function": 1, "method": 2}
        for name in names:
            rows = sorted(
                self.index.store.definitions_named(name, limit=20),
                key=lambda r: (kind_rank.get(r.kind, 3), len(r.path), r.path),
            )
            for row in rows:
                hits.append(
                    SymbolHit(
                        row.name, row.kind, row.container, self.index.absolute(row.path),
                        row.start_row, row.end_row, row.name_row, row.name_col,
                    )
                )  # fmt: skip
                if len(hits) >= limit:
                    return hits
        return hits
