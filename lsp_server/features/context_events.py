"""Editor events for completion's context and cache, sent by the plugins: yanked or selected
text (`treellama/didYank {uri?, text}`; saves feed the ring too, lsp_server.features.documents),
after which an idle moment pre-fills the last cursor's prompt; and a cursor that rests, or a
file entered (`treellama/didRestCursor {uri, position}`), whose prompt is pre-filled at once."""

from __future__ import annotations

import asyncio
from typing import Any

from lsp_server.features.inline_completion import relative_path, request_at
from lsp_server.notification_params import field, rest_position
from lsp_server.server import TreellamaServer

DID_YANK = "treellama/didYank"
DID_REST_CURSOR = "treellama/didRestCursor"
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
    @server.feature(DID_REST_CURSOR)
    async def did_rest_cursor(ls: TreellamaServer, params: Any) -> None:
        place = rest_position(params)
        if place is not None and place[0] in ls.workspace.text_documents:
            await ls.warm(await request_at(ls, *place))

    @server.feature(DID_YANK)
    def did_yank(ls: TreellamaServer, params: Any) -> None:
        text, uri = field(params, "text"), field(params, "uri")
        if isinstance(text, str) and text.strip():
            path = relative_path(ls, uri) if isinstance(uri, str) else ""
            ls.completions.ring.note_yank(path, text[:20_000])
            prefill_when_idle(ls)
