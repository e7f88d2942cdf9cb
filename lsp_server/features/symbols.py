"""textDocument/documentSymbol, foldingRange and selectionRange from tree-sitter.

They need no model. Parsing runs off the event loop on the document snapshot; a file whose
language has no grammar, or that is too large to parse, gets an empty answer, not an error.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.document_structure import (
    folds_of,
    selections_of,
    symbols_of,
)
from lsp_server.server import TreellamaServer


def register(server: TreellamaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(
        ls: TreellamaServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        document = ls.snapshot(params.text_document.uri)
        kept = await asyncio.wrap_future(ls.open_trees.tree(document.uri, document.version))
        return await asyncio.to_thread(symbols_of, document, kept)

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding_range(
        ls: TreellamaServer, params: types.FoldingRangeParams
    ) -> list[types.FoldingRange]:
        document = ls.snapshot(params.text_document.uri)
        return await asyncio.to_thread(folds_of, document)

    @server.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
    async def selection_range(
        ls: TreellamaServer, params: types.SelectionRangeParams
    ) -> list[types.SelectionRange]:
        document = ls.snapshot(params.text_document.uri)
        return await asyncio.to_thread(selections_of, document, list(params.positions))
