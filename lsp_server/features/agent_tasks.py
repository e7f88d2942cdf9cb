"""Agent tasks over LSP: `treellama.agent.*` commands, progress, events and approvals.

Each step of a task is sent as a `treellama/agentEvent` notification and as a work-done
progress report. Approvals are `window/showMessageRequest`s answered by the user. The task's
result reaches the user's files only through `treellama.agent.apply`, which sends it as a
WorkspaceEdit (with needsConfirmation annotations where the client supports them).
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent import task_views
from agent.tasks import TaskError
from lsp_server.agent_frontend import (
    PREFIX,
    AgentFrontend,
    frontend_of,
    task_id_of,
)
from lsp_server.command_args import params_of
from lsp_server.server import RequestFailed, TreellamaServer


async def start(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    return await agent.start(params)


async def steer(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    task_id = task_id_of(params, "treellama.agent.steer")
    return task_views.steer(agent.manager, task_id, params.get("message"))


async def cancel(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    return agent.manager.cancel(task_id_of(params, "treellama.agent.cancel")).public()


async def list_tasks(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    return {"tasks": [state.public() for state in agent.manager.list()]}


async def status(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    return task_views.task_detail(agent.manager, task_id_of(params, "treellama.agent.status"))


async def show_log(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    task_id = task_id_of(params, "treellama.agent.log")
    return await asyncio.to_thread(task_views.task_log, agent.manager, task_id)


async def apply(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    return await agent.apply(task_id_of(params, "treellama.agent.apply"))


async def discard(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    task_id = task_id_of(params, "treellama.agent.discard")
    return (await asyncio.to_thread(agent.manager.discard, task_id)).public()


async def commit(agent: AgentFrontend, params: dict[str, Any]) -> Any:
    message = params.get("message")
    task_id = task_id_of(params, "treellama.agent.commit")
    sha = await asyncio.to_thread(agent.manager.commit, task_id, str(message or ""))
    return {"commit": sha}


def _guarded(handler: Any) -> Any:
    async def command(ls: TreellamaServer, *args: Any) -> Any:
        try:
            return await handler(frontend_of(ls), params_of(args))
        except TaskError as exc:
            raise RequestFailed(f"treellama: {exc}") from None

    return command


COMMANDS = (
    ("start", start),
    ("steer", steer),
    ("cancel", cancel),
    ("list", list_tasks),
    ("status", status),
    ("log", show_log),
    ("apply", apply),
    ("discard", discard),
    ("commit", commit),
)


def register(server: TreellamaServer) -> None:
    for name, handler in COMMANDS:
        server.command(PREFIX + name)(_guarded(handler))
