"""textDocument/inlineCompletion (LSP 3.18): the model's suggestion as ghost text."""

from __future__ import annotations

from lsprotocol import types

from inference.completion import CompletionRequest
from lsp_server.server import TreellamaServer
from lsp_server.session import snapshot_document


def completion_request(
    ls: TreellamaServer, uri: str, position: types.Position
) -> CompletionRequest:
    document = snapshot_document(ls.workspace, uri)
    return CompletionRequest(
        key=uri,
        text=document.text,
        line=position.line,
        character=position.character,
        utf16=ls.session.client.utf16_positions,
    )


def register(server: TreellamaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: TreellamaServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        request = completion_request(ls, params.text_document.uri, params.position)
        completion = await ls.complete(request)
        if completion is None or not completion.text:
            return types.InlineCompletionList(items=[])
        here = types.Range(params.position, params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=completion.text, range=here)]
        )
