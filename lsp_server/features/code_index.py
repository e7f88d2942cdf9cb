"""The workspace code index over LSP: the background scan with progress, workspace/symbol,
definition, references, and `treellama.showContext`. None of them needs a model.

Until the first scan finishes, navigation answers from what is indexed so far (possibly
nothing); it never waits for the scan.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from lsp_server.command_args import params_of, position_of, uri_of
from lsp_server.features.inline_completion import request_at
from lsp_server.index_startup import recent_paths
from lsp_server.navigation import (
    SHOW_CONTEXT,
    context_report,
    definition,
    prepare_rename,
    references,
    rename,
    workspace_symbols,
)
from lsp_server.server import TreellamaServer
from lsp_server.snapshot import (
    RequestSnapshot,
    background_request,
    take_snapshot,
)


def register(server: TreellamaServer) -> None:
    @background_request(server, types.WORKSPACE_SYMBOL, uri=None)
    def workspace_symbol(snapshot: RequestSnapshot, params: types.WorkspaceSymbolParams) -> Any:
        return workspace_symbols(snapshot, params.query)

    @background_request(server, types.TEXT_DOCUMENT_DEFINITION)
    def definition_at(snapshot: RequestSnapshot, params: types.DefinitionParams) -> Any:
        return definition(snapshot, params.position)

    @background_request(server, types.TEXT_DOCUMENT_REFERENCES)
    def references_at(snapshot: RequestSnapshot, params: types.ReferenceParams) -> Any:
        return references(snapshot, params.position, params.context.include_declaration)

    @background_request(server, types.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename_at(snapshot: RequestSnapshot, params: types.PrepareRenameParams) -> Any:
        return prepare_rename(snapshot, params.position)

    @background_request(server, types.TEXT_DOCUMENT_RENAME)
    def rename_at(snapshot: RequestSnapshot, params: types.RenameParams) -> Any:
        return rename(snapshot, params.position, params.new_name)

    @server.command(SHOW_CONTEXT)
    async def show_context(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        """{uri, position}: the snippets retrieval ranks for that cursor, and why."""
        params = params_of(args)
        usage = "treellama.showContext takes {uri, position: {line, character}}"
        uri = uri_of(params, usage)
        line, character = position_of(params, usage)
        snapshot = take_snapshot(ls, uri)
        request = await request_at(ls, uri, types.Position(line, character))
        recent = recent_paths(ls)(uri, line)
        return await asyncio.to_thread(context_report, snapshot, request, line, recent)
