"""Document symbols, folding ranges and selection ranges from tree-sitter, as LSP types.

They need no model. Parsing runs off the event loop on the document snapshot; a file whose
language has no grammar, or that is too large to parse, gets an empty answer, not an error.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.uris import to_fs_path

from indexing.languages import language_for
from indexing.parsing import parse
from indexing.structure import enclosing_nodes, folds
from indexing.symbols import Symbol, document_symbols
from lsp_server.positions import LineIndex
from lsp_server.session import DocumentSnapshot

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


def _to_lsp(symbol: Symbol, index: LineIndex) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=symbol.name,
        kind=SYMBOL_KINDS.get(symbol.kind, types.SymbolKind.Variable),
        range=index.range(symbol.start, symbol.end),
        selection_range=index.range(symbol.name_start, symbol.name_end),
        children=[_to_lsp(child, index) for child in symbol.children],
    )


def symbols_of(
    document: DocumentSnapshot, kept: object | None = None
) -> list[types.DocumentSymbol]:
    tree, source, language = _tree(document, kept)
    if tree is None or language is None:
        return []
    index = LineIndex(source, document.encoding)
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
    document: DocumentSnapshot, positions: list[types.Position]
) -> list[types.SelectionRange]:
    tree, source, _ = _tree(document)
    index = LineIndex(source, document.encoding)
    answers = []
    for position in positions:
        byte_offset = len(document.text[: document.offset(position)].encode("utf-8"))
        chain = enclosing_nodes(tree, byte_offset) if tree is not None else []
        selection: types.SelectionRange | None = None
        for node in reversed(chain):  # outermost first, so each inner range has its parent
            selection = types.SelectionRange(
                range=index.range(node.start_point, node.end_point), parent=selection
            )
        answers.append(selection or types.SelectionRange(range=types.Range(position, position)))
    return answers
