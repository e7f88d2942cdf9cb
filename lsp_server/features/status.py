"""The `treellama.status` command: what the server and its model are doing. Needs no model."""

from __future__ import annotations

from typing import Any

from lsp_server import __version__
from lsp_server.server import TreellamaServer

STATUS_COMMAND = "treellama.status"


def index_status(ls: TreellamaServer) -> dict[str, Any]:
    index = ls.code_index
    if index is None:
        return {"state": "off" if not ls.session.config.index.enabled else "not_started"}
    scan = index.last_scan
    return {
        "state": "ready" if index.workspace.ready.is_set() else "indexing",
        "root": str(index.root),
        "database": str(index.workspace.db_path),
        "files": scan.files if scan else None,
        "scanSeconds": round(scan.seconds, 2) if scan else None,
        "watching": index.watcher is not None,
    }


def register(server: TreellamaServer) -> None:
    @server.command(STATUS_COMMAND)
    def status(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        model = ls.models.status
        info = model.info
        return {
            "version": __version__,
            "model": {
                "state": model.state.value,
                "name": model.name,
                "message": model.message,
                "fix": model.fix,
                "loadMs": round(model.load_ms),
                "path": str(info.path) if info else None,
                "nCtx": info.n_ctx if info else None,
            },
            "openDocuments": len(ls.workspace.text_documents),
            "index": index_status(ls),
            "inlineCompletionClient": ls.session.client.inline_completion,
        }
