"""The task API under /api/v1: start, list, status, live events (SSE with Last-Event-ID),
steer, cancel, diff, log, apply, discard. Every answer comes from agent.task_views, the same
functions the LSP commands call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent import task_views
from agent.images import ImageRefused, parse_images
from agent.tasks import FINAL, TaskError, UnknownTask, VagueInstruction
from lsp_server.web.approvals import PageApprover
from lsp_server.web.core import WebCore

KEEP_ALIVE_S = 15.0


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code or str(status)


def error(status: int, message: str, code: str = "") -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code or str(status)}}
    return JSONResponse(body, status_code=status)


def core_of(request: Request) -> WebCore:
    core: WebCore = request.app.state.core
    return core


async def body_of(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}", "invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_json")
    return body


async def _task_call(function: Any, *args: Any) -> Any:
    """A task_views call off the loop; an unknown task is 404, a refused one 400."""
    try:
        return await asyncio.to_thread(function, *args)
    except UnknownTask as exc:
        raise ApiError(404, str(exc), "task_not_found") from None
    except VagueInstruction as exc:  # a question back: the page shows it, nothing started
        raise ApiError(400, str(exc), "instruction_needs_detail") from None
    except TaskError as exc:
        raise ApiError(400, str(exc), "task_error") from None


async def start_task(request: Request) -> Response:
    core = core_of(request)
    body = await body_of(request)
    instruction, effort = body.get("instruction"), body.get("effort")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ApiError(400, "POST /api/v1/tasks takes {instruction, effort?, images?}",
                       "missing_field")  # fmt: skip
    try:  # pasted or dropped images come as data URIs; a path is read like any other file
        images = parse_images(body.get("images"), core.manager.workspace)
    except ImageRefused as exc:
        raise ApiError(400, str(exc), "invalid_image") from None
    if core.agent_needs_model:
        await core.model_ready()  # a task started while the model loads waits for it
    state = await _task_call(core.manager.start, instruction, effort if effort else None, None,
                             images)  # fmt: skip
    status = 201 if state.status != "refused" else 400
    return JSONResponse(
        {"id": state.id, "status": state.status, "message": state.message}, status_code=status
    )


def _approver(request: Request) -> PageApprover:
    approvals = core_of(request).approvals
    if approvals is None:
        raise ApiError(400, "inside the language server, approvals are asked in the editor",
                       "approvals_in_editor")  # fmt: skip
    return approvals


async def approvals(request: Request) -> Response:
    """The questions the task is waiting on (standalone `treellama web`)."""
    task_id = request.path_params["task_id"]
    await _task_call(core_of(request).manager.status, task_id)  # 404 for an unknown task
    return JSONResponse({"approvals": _approver(request).pending(task_id)})


async def approve(request: Request) -> Response:
    """Answers one: `{decision: allow | always | deny}`."""
    task_id, approval_id = request.path_params["task_id"], request.path_params["approval_id"]
    decision = (await body_of(request)).get("decision")
    try:
        _approver(request).answer(task_id, approval_id, str(decision))
    except ValueError:
        raise ApiError(400, "decision must be allow, always or deny", "invalid_decision") from None
    except KeyError:
        raise ApiError(404, f"task {task_id} has no open question {approval_id}",
                       "approval_not_found") from None  # fmt: skip
    return JSONResponse({"answered": True, "decision": decision})


async def list_tasks(request: Request) -> Response:
    states = await asyncio.to_thread(core_of(request).manager.list)
    return JSONResponse({"tasks": [state.public() for state in states]})


async def task_status(request: Request) -> Response:
    task_id = request.path_params["task_id"]
    return JSONResponse(await _task_call(task_views.task_detail, core_of(request).manager, task_id))


async def task_diff(request: Request) -> Response:
    detail = await _task_call(
        task_views.task_detail, core_of(request).manager, request.path_params["task_id"]
    )
    return JSONResponse(
        {"taskId": detail["taskId"], "diff": detail["diff"], "changes": detail["changes"]}
    )


async def task_log(request: Request) -> Response:
    task_id = request.path_params["task_id"]
    return JSONResponse(await _task_call(task_views.task_log, core_of(request).manager, task_id))


async def steer(request: Request) -> Response:
    body = await body_of(request)
    manager, task_id = core_of(request).manager, request.path_params["task_id"]
    return JSONResponse(await _task_call(task_views.steer, manager, task_id, body.get("message")))


async def cancel(request: Request) -> Response:
    state = await _task_call(core_of(request).manager.cancel, request.path_params["task_id"])
    return JSONResponse(state.public())


async def discard(request: Request) -> Response:
    state = await _task_call(core_of(request).manager.discard, request.path_params["task_id"])
    return JSONResponse(state.public())


async def apply(request: Request) -> Response:
    core, task_id = core_of(request), request.path_params["task_id"]
    await _task_call(core.manager.status, task_id)  # 404 for an unknown task
    try:
        return JSONResponse(await core.apply(task_id))
    except TaskError as exc:
        raise ApiError(409, str(exc), "not_applied") from None


def _last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        raise ApiError(
            400, f"Last-Event-ID must be a number, not {raw!r}", "bad_event_id"
        ) from None


async def events(request: Request) -> Response:
    """Server-Sent Events: every event of the task after Last-Event-ID, then live ones; the
    stream ends after the task's last event (done or failed)."""
    core, task_id = core_of(request), request.path_params["task_id"]
    await _task_call(core.manager.status, task_id)
    last = _last_event_id(request)

    async def stream() -> AsyncIterator[str]:
        nonlocal last
        finished = False
        yield "retry: 2000\n\n"
        while True:
            horizon = core.events.last_id  # other tasks' events move it too: wait past it
            sent = False
            for record in core.events.after(last, task_id):
                last, sent = record.id, True
                yield f"id: {record.id}\nevent: agent\ndata: {json.dumps(record.data)}\n\n"
                if record.data["kind"] in ("done", "failed"):
                    return
            if await request.is_disconnected():
                return
            if not sent and finished:
                return  # ended, and its last events are no longer kept
            if not sent:
                yield ": keep-alive\n\n"
            finished = core.manager.status(task_id).status in FINAL
            await core.events.wait(horizon, 0.5 if finished else KEEP_ALIVE_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


ROUTES = [
    Route("/api/v1/tasks", start_task, methods=["POST"]),
    Route("/api/v1/tasks", list_tasks, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}", task_status, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/events", events, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/steer", steer, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/cancel", cancel, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/diff", task_diff, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/log", task_log, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/approvals", approvals, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/approvals/{approval_id:int}", approve, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/apply", apply, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/discard", discard, methods=["POST"]),
]
