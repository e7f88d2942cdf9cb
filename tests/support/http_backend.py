"""The HTTP backend as tests drive it: an engine on a server's URL, and the language server
started on that backend for one inline completion."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from inference.http_backend import HttpEngine
from inference.settings import BackendSettings
from tests.support.lsp_client import SAMPLE, initialize_params, open_document, server_config


def http(url: str, api: str) -> HttpEngine:
    return HttpEngine(BackendSettings(kind="http", url=url, api=api, timeout_ms=60_000))


async def complete_over_lsp(server_url: str, api: str) -> tuple[str, dict]:
    """Starts the language server on the HTTP backend `api` at `server_url`, asks for an inline
    completion in the sample project, and returns its text and the server's status."""
    config: ClientServerConfig = server_config(
        TREELLAMA_BACKEND_KIND="http",
        TREELLAMA_BACKEND_URL=server_url,
        TREELLAMA_BACKEND_API=api,
        # This is about the route through HTTP, not the time caps: a busy machine must not
        # turn it into an empty answer.
        TREELLAMA_COMPLETION_MAX_PROMPT_MS="0",
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    try:
        await client.initialize_session(initialize_params("visual_studio_code"))
        uri = open_document(client, SAMPLE / "mathutils.py")
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(4, 4),
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
            )
        )
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        await client.shutdown_session()
    finally:
        await asyncio.wait_for(client.stop(), 30)
    return (str(result.items[0].insert_text) if result.items else ""), status
