"""Document lifecycle hooks (pygls keeps the text itself): the syntax trees of open documents
follow every change incrementally, and saves and closes feed the completion context."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types
from pygls.uris import to_fs_path

from indexing.languages import language_for
from lsp_server.features.context_events import prefill_when_idle
from lsp_server.features.inline_completion import relative_path
from lsp_server.positions import text_changes
from lsp_server.server import TreellamaServer
from lsp_server.session import LiveBuffers


def current_text(ls: TreellamaServer, uri: str) -> Callable[[], str | None]:
    """Reads the document when the index gets to it, so a burst of edits is indexed once."""
    buffers = LiveBuffers(ls.workspace)
    return lambda: buffers.text(uri)


def register(server: TreellamaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TreellamaServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        language = language_for(item.language_id, to_fs_path(item.uri) or item.uri)
        if language is not None:
            ls.open_trees.opened(item.uri, language, item.text, item.version)
        if ls.code_index is not None:
            ls.code_index.document_changed(item.uri, current_text(ls, item.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TreellamaServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        old_text = ls.protocol.text_before_change.pop(uri, None)
        if old_text is None:
            return
        changes = text_changes(
            old_text, list(params.content_changes), ls.session.client.position_encoding
        )
        ls.open_trees.changed(uri, old_text, changes, params.text_document.version)
        if ls.code_index is not None:
            ls.code_index.document_changed(uri, current_text(ls, uri))

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
        ls.open_trees.closed(params.text_document.uri)
        if ls.code_index is not None:
            ls.code_index.document_closed(params.text_document.uri)
