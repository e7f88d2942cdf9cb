"""The one place that registers every LSP feature on the server; one feature per module."""

from __future__ import annotations

from lsp_server.features import (
    agent_tasks,
    code_index,
    completion,
    context_events,
    documents,
    feedback,
    inline_completion,
    lifecycle,
    refactoring,
    status,
    symbols,
)
from lsp_server.server import TreellamaServer


def register_all(server: TreellamaServer) -> None:
    for feature in (
        lifecycle,
        inline_completion,
        completion,
        status,
        feedback,
        context_events,
        documents,
        symbols,
        code_index,
        refactoring,
        agent_tasks,
    ):
        feature.register(server)
