"""Opening the workspace's code index and its first scan, under work-done progress, off the
event loop; the index then feeds the completion prompt (lsp_server.index_context).

Until the first scan finishes, navigation answers from what is indexed so far (possibly
nothing); it never waits for the scan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from lsprotocol import types

from inference.context import retrieval_helps
from lsp_server.index_context import IndexContextSource
from lsp_server.progress import WorkDone
from lsp_server.server import TreellamaServer
from lsp_server.session import LiveBuffers
from lsp_server.snapshot import model_parameters

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25


def retrieval_enabled(ls: TreellamaServer) -> bool:
    return retrieval_helps(ls.session.config.index.retrieval, model_parameters(ls))


def refresh_retrieval(ls: TreellamaServer) -> None:
    """On the loop: after a configuration change, a model load, or the index opening."""
    ls.retrieval.on = retrieval_enabled(ls)


def recent_paths(ls: TreellamaServer) -> Any:
    ring = ls.completions.ring  # the completion service's own ring, not the server's state

    def paths(uri: str, line: int) -> list[str]:
        return [chunk.path for chunk in ring.chunks_for(uri, line)]

    return paths


async def start_index(ls: TreellamaServer) -> None:
    """Opens the workspace's index and scans it under work-done progress, off the loop."""
    settings = ls.session.config.index
    root = ls.session.workspace_root
    if not settings.enabled or root is None or not root.is_dir():
        return
    buffers = LiveBuffers(ls.workspace)  # the index's own reader of what the user sees
    services = ls.services
    index = await asyncio.to_thread(services.open_index, root, settings, buffers.text_of)
    if index is None:  # a read-only cache dir, say: navigation stays empty, no crash
        ls.show_message("treellama: the code index is off (it could not be opened; the log "
                        "says why)", types.MessageType.Warning)  # fmt: skip
        return
    ls.code_index = index
    ls.completions.sources.append(IndexContextSource(index, ls.retrieval, recent_paths(ls)))
    refresh_retrieval(ls)
    progress = await WorkDone.begin(
        ls, "treellama", "indexing the workspace", kind="index", percentage=0
    )
    loop = asyncio.get_running_loop()
    last = [0.0]

    def report(done: int, total: int) -> None:  # on the indexer thread
        now = time.monotonic()
        if progress.token is None or (now - last[0] < PROGRESS_EVERY_S and done != total):
            return
        last[0] = now
        percentage = int(100 * done / total) if total else 100
        message = f"indexing {done}/{total} files"
        loop.call_soon_threadsafe(progress.report, message, percentage)

    try:
        result: Any = await asyncio.wrap_future(index.start(report))  # services.scan
        message = f"indexed {result.files} files ({result.indexed} read) in {result.seconds:.1f} s"
    except Exception as exc:
        log.exception("the workspace scan failed")
        message = f"indexing failed: {exc}"
    progress.end(message)
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))
