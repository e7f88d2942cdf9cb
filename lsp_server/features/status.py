"""`treellama.status` and `treellama.documentState {uri}` (lsp_server.status_report); neither
needs a model."""

from __future__ import annotations

from typing import Any

from lsp_server.command_args import params_of, uri_of
from lsp_server.server import TreellamaServer
from lsp_server.status_report import document_state, server_status

STATUS_COMMAND = "treellama.status"
DOCUMENT_STATE = "treellama.documentState"


def status(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
    return server_status(ls)


async def state_of_document(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
    return await document_state(ls, uri_of(params_of(args), f"{DOCUMENT_STATE} takes {{uri}}"))


def register(server: TreellamaServer) -> None:
    server.command(STATUS_COMMAND)(status)
    server.command(DOCUMENT_STATE)(state_of_document)
