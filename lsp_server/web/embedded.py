"""The web app inside the language server (`web.enabled`): it shares the editor's task manager
and model worker, so a task started in the editor can be watched, steered and reviewed in the
browser, and the other way round. Apply goes to the editor as a WorkspaceEdit, which the user
confirms there.

uvicorn runs on a thread of its own (its own event loop, and no signal handlers taken from the
language server); what must happen on the language server's loop (the model-ready wait, the
editor's applyEdit) is sent there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from lsprotocol import types

from agent.tasks import TaskError
from inference.paths import stats_file
from lsp_server.agent_frontend import frontend_of
from lsp_server.server import TreellamaServer
from lsp_server.web.core import WebCore
from lsp_server.web.events import TaskEvents
from lsp_server.web.server import WebServer

log = logging.getLogger(__name__)


async def start_web(ls: TreellamaServer) -> WebServer | None:
    settings = ls.session.config.web
    if not settings.enabled or ls.web is not None:
        return None
    try:
        agent = frontend_of(ls)
    except TaskError as exc:
        ls.show_message(f"treellama: the web page is off: {exc}", types.MessageType.Warning)
        return None
    events = TaskEvents()
    agent.listeners.append(events.publish)

    loop = asyncio.get_running_loop()

    async def on_server_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    async def model_ready() -> Any:  # raises services.ModelUnavailable, as standalone
        return await on_server_loop(ls.services.model_ready())

    async def apply(task_id: str) -> dict[str, Any]:  # raises TaskError, as standalone
        answer: dict[str, Any] = await on_server_loop(agent.apply(task_id))
        return answer

    model = ls.session.config.model
    core = WebCore(
        agent.manager,
        events,
        ls.worker,
        model.path or model.name,
        apply,
        model_ready,
        str(stats_file()),
        agent_needs_model=ls.agent_model_for is None,
    )
    try:
        web = WebServer(core, settings.host, settings.port,
                        allowed_origins=settings.allowed_origins)  # fmt: skip
    except OSError as exc:
        ls.show_message(
            f"treellama: the web page cannot listen on {settings.host}:{settings.port}: {exc}",
            types.MessageType.Warning,
        )
        return None
    ls.web = web
    await asyncio.to_thread(web.start_in_thread)
    log.info("web page: %s", web.url)
    ls.window_log_message(
        types.LogMessageParams(type=types.MessageType.Info, message=f"treellama web: {web.url}")
    )
    return web
