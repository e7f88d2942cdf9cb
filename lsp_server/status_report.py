"""What the server and its model are doing, as plain data for any front end; none of it
needs a model.

- `server_status`: the model, the index, the client;
- `document_state`: the server's copy of an open document (version, size, sha256) and
  whether its kept syntax tree was built from the same text, so a user or a test can check
  that the server follows the editor's edits.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from lsp_server import __version__
from lsp_server.server import TreellamaServer


def server_status(ls: TreellamaServer) -> dict[str, Any]:
    """What `treellama.status` answers: the model, the index, the client."""
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
        "web": {"url": ls.web.url} if ls.web is not None else None,
    }


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


async def document_state(ls: TreellamaServer, uri: str) -> dict[str, Any]:
    document = ls.snapshot(uri)
    kept = await asyncio.wrap_future(ls.open_trees.source(uri))
    # Hashing a large document takes a while: off the event loop.
    source = await asyncio.to_thread(document.text.encode, "utf-8", "surrogatepass")
    digest = await asyncio.to_thread(lambda: hashlib.sha256(source).hexdigest())
    return {
        "uri": uri,
        "version": document.version,
        "characters": len(document.text),
        "lines": document.text.count("\n") + 1,
        "sha256": digest,
        "positionEncoding": document.encoding.value,
        # None: the language has no syntax tree here.
        "treeMatches": None if kept is None else kept == (source, document.version),
    }
