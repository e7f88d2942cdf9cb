"""textDocument/documentSymbol, foldingRange and selectionRange from tree-sitter.

They need no model. Parsing runs off the event loop on the document snapshot; a file whose
language has no grammar, or that is too large to parse, gets an empty answer, not an error.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pygls.uris import to_fs_path

from indexing.languages import language_for
from indexing.parsing import parse
from indexing.positions import LineIndex
from indexing.structure import enclosing_nodes, folds
from indexing.symbols import Symbol, document_symbols
from inference.text import cursor_offset
from lsp_server.server import TreellamaServer
from lsp_server.session import DocumentSnapshot, snapshot_document

SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "constructor": types.SymbolKind.Constructor,
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "type": types.SymbolKind.TypeParameter,
    "constant": types.SymbolKind.Constant,
    "module": types.SymbolKind.Module,
    "impl": types.SymbolKind.Namespace,
    "macro": types.SymbolKind.Function,
}
FOLD_KINDS = {
    "comment": types.FoldingRangeKind.Comment,
    "imports": types.FoldingRangeKind.Imports,
    "region": types.FoldingRangeKind.Region,
}


def _tree(
    document: DocumentSnapshot, kept: object | None = None
) -> tuple[object | None, bytes, str | None]:
    """The document's tree: the incrementally kept one for this version, else a fresh parse."""
    source = document.text.encode("utf-8")
    language = language_for(document.language_id, to_fs_path(document.uri) or document.uri)
    if kept is not None:
        return kept, source, language
    return (parse(source, language) if language else None), source, language


def _range(index: LineIndex, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    a, b = index.point(*start), index.point(*end)
    return types.Range(types.Position(a.line, a.character), types.Position(b.line, b.character))


def _to_lsp(symbol: Symbol, index: LineIndex) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=symbol.name,
        kind=SYMBOL_KINDS.get(symbol.kind, types.SymbolKind.Variable),
        range=_range(index, symbol.start, symbol.end),
        selection_range=_range(index, symbol.name_start, symbol.name_end),
        children=[_to_lsp(child, index) for child in symbol.children],
    )


def symbols_of(
    document: DocumentSnapshot, encoding: str, kept: object | None = None
) -> list[types.DocumentSymbol]:
    tree, source, language = _tree(document, kept)
    if tree is None or language is None:
        return []
    index = LineIndex(source, encoding)
    return [_to_lsp(symbol, index) for symbol in document_symbols(tree, language)]


def folds_of(document: DocumentSnapshot) -> list[types.FoldingRange]:
    tree, _, _ = _tree(document)
    if tree is None:
        return []
    return [
        types.FoldingRange(start_line=f.start_line, end_line=f.end_line, kind=FOLD_KINDS[f.kind])
        for f in folds(tree)
    ]


def selections_of(
    document: DocumentSnapshot, positions: list[types.Position], utf16: bool, encoding: str
) -> list[types.SelectionRange]:
    tree, source, _ = _tree(document)
    index = LineIndex(source, encoding)
    answers = []
    for position in positions:
        offset = cursor_offset(document.text, position.line, position.character, utf16=utf16)
        byte_offset = len(document.text[:offset].encode("utf-8"))
        chain = enclosing_nodes(tree, byte_offset) if tree is not None else []
        selection: types.SelectionRange | None = None
        for node in reversed(chain):  # outermost first, so each inner range has its parent
            selection = types.SelectionRange(
                range=_range(index, node.start_point, node.end_point), parent=selection
            )
        answers.append(selection or types.SelectionRange(range=types.Range(position, position)))
    return answers


def _encoding(ls: TreellamaServer) -> str:
    encoding = ls.workspace.position_encoding
    return str(getattr(encoding, "value", encoding) or "utf-16")


def register(server: TreellamaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(
        ls: TreellamaServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        document = snapshot_document(ls.workspace, params.text_document.uri)
        kept = await asyncio.wrap_future(ls.open_trees.tree(document.uri, document.version))
        return await asyncio.to_thread(symbols_of, document, _encoding(ls), kept)

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding_range(
        ls: TreellamaServer, params: types.FoldingRangeParams
    ) -> list[types.FoldingRange]:
        document = snapshot_document(ls.workspace, params.text_document.uri)
        return await asyncio.to_thread(folds_of, document)

    @server.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
    async def selection_range(
        ls: TreellamaServer, params: types.SelectionRangeParams
    ) -> list[types.SelectionRange]:
        document = snapshot_document(ls.workspace, params.text_document.uri)
        utf16 = ls.session.client.utf16_positions
        return await asyncio.to_thread(
            selections_of, document, list(params.positions), utf16, _encoding(ls)
        )
