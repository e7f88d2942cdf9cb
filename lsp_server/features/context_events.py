"""Yanked or selected text as completion context (`treellama/didYank {uri?, text}`, sent by
the editor plugins; saves feed the context too, see lsp_server.features.documents). When the
context changed and the user then stays idle for a moment, the prompt for the last cursor
position is pre-filled in the background, so the next keystroke finds it cached."""

from __future__ import annotations

import asyncio
from typing import Any

from lsp_server.features.inline_completion import relative_path
from lsp_server.server import TreellamaServer

DID_YANK = "treellama/didYank"
IDLE_SECONDS = 1.0


def prefill_when_idle(ls: TreellamaServer) -> None:
    """(Re)starts the idle timer; any completion request in the meantime makes it moot."""
    loop = asyncio.get_running_loop()
    if ls.prefill_timer is not None:
        ls.prefill_timer.cancel()
    # Preparing walks the document: do it off the event loop.
    ls.prefill_timer = loop.call_later(
        IDLE_SECONDS, lambda: loop.run_in_executor(None, ls.completions.prefill_last)
    )


def register(server: TreellamaServer) -> None:
    @server.feature(DID_YANK)
    def did_yank(ls: TreellamaServer, params: Any) -> None:
        text = params.get("text") if isinstance(params, dict) else getattr(params, "text", None)
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if isinstance(text, str) and text.strip():
            path = relative_path(ls, uri) if isinstance(uri, str) else ""
            ls.completions.ring.note_yank(path, text[:20_000])
            prefill_when_idle(ls)
