"""Editor events that feed the completion context: saves, closes, and yanked or selected text
(`treellama/didYank {uri?, text}`, sent by the editor plugins). When the context changed and
the user then stays idle for a moment, the prompt for the last cursor position is pre-filled in
the background, so the next keystroke finds it cached."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from lsp_server.features.inline_completion import relative_path
from lsp_server.server import TreellamaServer

DID_YANK = "treellama/didYank"
IDLE_SECONDS = 1.0


def prefill_when_idle(ls: TreellamaServer) -> None:
    """(Re)starts the idle timer; any completion request in the meantime makes it moot."""
    loop = asyncio.get_running_loop()
    if ls.prefill_timer is not None:
        ls.prefill_timer.cancel()
    # Preparing walks the document: do it off the event loop.
    ls.prefill_timer = loop.call_later(
        IDLE_SECONDS, lambda: loop.run_in_executor(None, ls.completions.prefill_last)
    )


def register(server: TreellamaServer) -> None:
    @server.feature(DID_YANK)
    def did_yank(ls: TreellamaServer, params: Any) -> None:
        text = params.get("text") if isinstance(params, dict) else getattr(params, "text", None)
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if isinstance(text, str) and text.strip():
            path = relative_path(ls, uri) if isinstance(uri, str) else ""
            ls.completions.ring.note_yank(path, text[:20_000])
            prefill_when_idle(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TreellamaServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        document = ls.workspace.text_documents.get(uri)
        if document is not None:
            ls.completions.ring.note_saved(uri, relative_path(ls, uri), document.source)
            prefill_when_idle(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TreellamaServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.completions.ring.forget(params.text_document.uri)
