"""Yanked or selected text as completion context (`treellama/didYank {uri?, text}`, sent by
the editor plugins; saves feed the context too, see lsp_server.features.documents). When the
context changed and the user then stays idle for a moment, the prompt for the last cursor
position is pre-filled in the background, so the next keystroke finds it cached.

`treellama/didRestCursor {uri, position}` (the plugins send it when the cursor has stayed put
a moment, and on entering a file) pre-fills the prompt there, so that the first suggestion
after opening a file or jumping to a new place does not wait for the whole prompt to be read."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from inference.model_manager import ModelState
from lsp_server.features.inline_completion import relative_path, request_at
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


def _field(params: Any, name: str) -> Any:
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


def rest_position(params: Any) -> tuple[str, types.Position] | None:
    """The document and position of a didRestCursor notification; None if malformed."""
    uri, position = _field(params, "uri"), _field(params, "position")
    line, character = _field(position, "line"), _field(position, "character")
    if not isinstance(uri, str) or not isinstance(line, int) or not isinstance(character, int):
        return None
    if line < 0 or character < 0:
        return None
    return uri, types.Position(line=line, character=character)


async def warm_at(ls: TreellamaServer, uri: str, position: types.Position) -> None:
    settings = ls.session.config.completion
    ready = ls.models.status.state is ModelState.READY
    if not settings.enabled or not ready or uri not in ls.workspace.text_documents:
        return
    request = await request_at(ls, uri, position)
    await asyncio.to_thread(ls.completions.warm, request, settings)


def register(server: TreellamaServer) -> None:
    @server.feature(DID_REST_CURSOR)
    async def did_rest_cursor(ls: TreellamaServer, params: Any) -> None:
        place = rest_position(params)
        if place is not None:
            await warm_at(ls, *place)

    @server.feature(DID_YANK)
    def did_yank(ls: TreellamaServer, params: Any) -> None:
        text = params.get("text") if isinstance(params, dict) else getattr(params, "text", None)
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if isinstance(text, str) and text.strip():
            path = relative_path(ls, uri) if isinstance(uri, str) else ""
            ls.completions.ring.note_yank(path, text[:20_000])
            prefill_when_idle(ls)
