"""Editor events that feed the completion context: saves, closes, and yanked or selected text
(`treellama/didYank {uri?, text}`, sent by the editor plugins)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from lsp_server.features.inline_completion import relative_path
from lsp_server.server import TreellamaServer

DID_YANK = "treellama/didYank"


def register(server: TreellamaServer) -> None:
    @server.feature(DID_YANK)
    def did_yank(ls: TreellamaServer, params: Any) -> None:
        text = params.get("text") if isinstance(params, dict) else getattr(params, "text", None)
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if isinstance(text, str) and text.strip():
            path = relative_path(ls, uri) if isinstance(uri, str) else ""
            ls.completions.ring.note_yank(path, text[:20_000])

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TreellamaServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        document = ls.workspace.text_documents.get(uri)
        if document is not None:
            ls.completions.ring.note_saved(uri, relative_path(ls, uri), document.source)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TreellamaServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.completions.ring.forget(params.text_document.uri)
