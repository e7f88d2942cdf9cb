"""textDocument/inlineCompletion (LSP 3.18): the model's suggestion as ghost text.

Each item carries the command `treellama.acceptedCompletion` with its id, which clients run
when the whole suggestion is accepted (Neovim 0.12 and VS Code do this by themselves); partial
accepts and views come as the notifications in lsp_server.features.feedback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from inference.completion import CompletionRequest
from lsp_server.positions import column_at
from lsp_server.server import TreellamaServer
from lsp_server.session import DocumentSnapshot

ACCEPTED_COMMAND = "treellama.acceptedCompletion"
INVOKED = types.InlineCompletionTriggerKind.Invoked


def relative_path(ls: TreellamaServer, uri: str) -> str:
    path = to_fs_path(uri)
    if not path:
        return uri
    root = ls.session.workspace_root
    if root is not None:
        try:
            return str(Path(path).relative_to(root))
        except ValueError:
            pass
    return Path(path).name


def completion_request(
    document: DocumentSnapshot, position: types.Position, path: str, repo: str, count: int = 1
) -> CompletionRequest:
    """The service's request for an LSP position: the column in code points. Walks the text
    up to the cursor's line, so it runs off the event loop."""
    return CompletionRequest(
        key=document.uri,
        text=document.text,
        line=position.line,
        column=column_at(document.text, position.line, position.character, document.encoding),
        path=path,
        repo=repo,
        language=document.language_id or "",
        count=count,
    )


async def request_at(
    ls: TreellamaServer, uri: str, position: types.Position, count: int = 1
) -> CompletionRequest:
    document = ls.snapshot(uri)  # on the loop: the text as of this request
    root = ls.session.workspace_root
    path, repo = relative_path(ls, uri), root.name if root else ""
    return await asyncio.to_thread(completion_request, document, position, path, repo, count)


def wanted(ls: TreellamaServer, context: types.InlineCompletionContext | None) -> int:
    """Several suggestions when the user asked (Alt+]: invoked), one while typing (fastest)."""
    asked = context is not None and context.trigger_kind == INVOKED
    return ls.session.config.completion.suggestions if asked else 1


def register(server: TreellamaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: TreellamaServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        count = wanted(ls, params.context)
        request = await request_at(ls, params.text_document.uri, params.position, count)
        completion = await ls.complete(request)
        if completion is None or not completion.text:
            return types.InlineCompletionList(items=[])
        here = types.Range(params.position, params.position)
        accepted = types.Command(
            title="treellama: accepted", command=ACCEPTED_COMMAND, arguments=[completion.id]
        )
        texts = (completion.text, *completion.alternatives)
        items = [types.InlineCompletionItem(text, range=here, command=accepted) for text in texts]
        return types.InlineCompletionList(items=items)
