"""Images on a refactoring command (`treellama.explain`, `treellama.rewrite`): read off the
event loop (the user's own, wherever they are; one outside the workspace that someone else
proposed only once the user allows it), and turned into the text the model is shown, and shown
to the model itself where it sees images. One that cannot be taken is named to the user; the
command goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from agent.images import (
    ImageInput,
    ImageReading,
    ImageRefused,
    needs_approval,
    parse_images,
    read,
    shown_to,
)
from agent.model import WorkerChatModel
from lsp_server.server import RequestFailed, TreellamaServer

READ = "Read it"


async def _allowed(ls: TreellamaServer, image: ImageInput) -> bool:
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=f"treellama wants to read an image outside the workspace:\n{image.path}",
        actions=[types.MessageActionItem(title=READ), types.MessageActionItem(title="Deny")],
    )
    try:
        answer = await ls.window_show_message_request_async(params)
    except Exception:  # a client that cannot ask: no
        return False
    return answer is not None and answer.title == READ


async def read_images(
    ls: TreellamaServer, params: dict[str, Any], command: str, instruction: str
) -> list[ImageReading]:
    """The request's images, read; each also shown to the model when it sees images."""
    root = ls.session.workspace_root or Path.cwd()
    try:
        images = parse_images(params.get("images"), root)
    except ImageRefused as exc:
        raise RequestFailed(f"{command}: {exc}") from None
    readings: list[ImageReading] = []
    for image in images:
        try:
            if needs_approval(image, root) and not await _allowed(ls, image):
                raise ImageRefused(f"{image.name} is outside the workspace and was not approved")
            readings.append(await asyncio.to_thread(read, image))
        except ImageRefused as exc:
            ls.show_message(f"treellama: image refused: {exc}", types.MessageType.Warning)
    if readings:
        await ls.model_ready()
        model = WorkerChatModel(ls.worker)
        readings = [await asyncio.to_thread(shown_to, model, r, instruction) for r in readings]
    return readings
