"""The language server's side of agent tasks: approvals as window/showMessageRequest, events
as `treellama/agentEvent` notifications and work-done progress, and the task's result as a
WorkspaceEdit built from a snapshot of the documents the user has open.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from agent.apply_plan import plan_apply
from agent.approvals import ApprovalRequest, Decision
from agent.env.worktree import TaskTree
from agent.images import ImageRefused, parse_images
from agent.loop.agent_loop import Event
from agent.task_views import event_payload
from agent.tasks import TaskError, TaskState, apply_label
from lsp_server.progress import WorkDone
from lsp_server.server import RequestFailed, TreellamaServer
from lsp_server.snapshot import RequestSnapshot, take_snapshot
from lsp_server.workspace_edits import workspace_edit

log = logging.getLogger(__name__)

EVENT = "treellama/agentEvent"
PREFIX = "treellama.agent."
ALLOW, DENY = "Allow once", "Deny"


class LspApprover:
    """Asks the user with window/showMessageRequest, from the task's thread."""

    def __init__(self, ls: TreellamaServer, loop: asyncio.AbstractEventLoop) -> None:
        self.ls = ls
        self.loop = loop
        self.cancels: dict[str, threading.Event] = {}

    def ask(self, request: ApprovalRequest) -> Decision:
        always = f"Always allow `{request.prefix}`"
        actions = [ALLOW, DENY] if "destructive" in request.reason else [ALLOW, always, DENY]
        where = "outside the sandbox" if request.outside_sandbox else "in the sandbox"
        what = f"run {where}:\n{request.command}"
        if request.prefix == "read":  # an image outside the workspace (agent.images)
            what = request.command
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"treellama agent ({request.task_id}) wants to {what}\n({request.reason})",
            actions=[types.MessageActionItem(title=a) for a in actions],
        )
        future = asyncio.run_coroutine_threadsafe(
            self.ls.window_show_message_request_async(params), self.loop
        )
        cancel = self.cancels.get(request.task_id)
        while True:
            try:
                answer = future.result(timeout=0.5)
                break
            except concurrent.futures.TimeoutError:
                if cancel is not None and cancel.is_set():
                    future.cancel()
                    return Decision.DENY
            except Exception as exc:  # the client failed the request: treat as "no"
                log.info("approval request failed: %s", exc)
                return Decision.DENY
        title = answer.title if answer is not None else DENY
        if title == always:
            return Decision.ALWAYS
        return Decision.ALLOW if title == ALLOW else Decision.DENY


class AgentFrontend:
    """The server's side of agent tasks: one manager per workspace, progress per task."""

    def __init__(self, ls: TreellamaServer, loop: asyncio.AbstractEventLoop) -> None:
        self.ls = ls
        self.loop = loop
        self.approver = LspApprover(ls, loop)
        root = ls.session.workspace_root
        if root is None or not root.is_dir():
            raise TaskError("agent tasks need a workspace folder")
        self.manager = ls.services.task_manager(
            root, ls.session.config.agent, self.approver, self._on_event, ls.agent_model_for
        )
        self.progress: dict[str, WorkDone] = {}
        # Others who follow the tasks' events (the web page), called on the task's thread.
        self.listeners: list[Callable[[TaskState, Event], None]] = []

    def _on_event(self, state: TaskState, event: Event) -> None:  # on a task's thread
        for listener in self.listeners:
            listener(state, event)
        if not self.loop.is_closed():  # a task still ending as the server exits
            self.loop.call_soon_threadsafe(self._send, state, event)

    def _send(self, state: TaskState, event: Event) -> None:
        self.ls.protocol.notify(EVENT, event_payload(state, event))
        progress = self.progress.get(state.id)
        if progress is None:
            return
        if event.kind in ("done", "failed"):
            progress.end(event.message)
            self.progress.pop(state.id, None)
        else:
            percentage = min(99, int(100 * event.step / max(1, state.max_steps)))
            progress.report(f"step {event.step}: {event.message[:80]}", percentage)

    async def start(self, params: dict[str, Any]) -> dict[str, Any]:
        instruction = params.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise RequestFailed(
                "treellama.agent.start takes {instruction, effort?, approvalPolicy?, images?}"
            )
        try:
            images = parse_images(params.get("images"), self.manager.workspace)
        except ImageRefused as exc:
            raise RequestFailed(f"treellama.agent.start: {exc}") from None
        if self.ls.agent_model_for is None:
            await self.ls.model_ready()  # a task started while the model loads waits
        effort, policy = params.get("effort"), params.get("approvalPolicy")
        state = await asyncio.to_thread(
            self.manager.start,
            instruction,
            effort if isinstance(effort, str) else None,
            policy if isinstance(policy, str) else None,
            images,
        )
        self.approver.cancels[state.id] = self.manager.cancel_event(state.id)
        if state.status != "refused":
            self.progress[state.id] = await WorkDone.begin(
                self.ls, "treellama agent", state.instruction[:80], percentage=0,
                token=f"treellama-agent-{state.id}",
            )  # fmt: skip
        return {"taskId": state.id, "status": state.status, "message": state.message}

    @staticmethod
    def edit_for(
        state: TaskState, tree: TaskTree, snapshot: RequestSnapshot
    ) -> tuple[types.WorkspaceEdit, list[str]]:
        """The task's diff as a WorkspaceEdit, against the text the user had when asked to
        apply it; files the user changed since the task started are left out and named."""
        root = tree.workspace
        plan = plan_apply(
            state.changes, tree, lambda p: snapshot.documents.text_of(root / p, strict=True)
        )
        deletions, skipped = plan.deletions, plan.skipped
        client = snapshot.client
        label = apply_label(state.instruction, state.status, state.verified)
        edit = workspace_edit(root, plan.changes, plan.versions, client, label)
        if deletions and client.document_changes:
            annotation = "treellama" if client.change_annotations else None
            edit.document_changes = [
                *(edit.document_changes or []),
                *(
                    types.DeleteFile(
                        uri=(root / p).as_uri(),
                        annotation_id=annotation,
                        options=types.DeleteFileOptions(ignore_if_not_exists=True),
                    )
                    for p in deletions
                ),
            ]
        elif deletions:
            skipped += [
                f"{p} (deleting files needs a client with documentChanges)" for p in deletions
            ]
        return edit, skipped

    async def apply(self, task_id: str) -> dict[str, Any]:
        state, tree = self.manager.finished(task_id)
        snapshot = take_snapshot(self.ls)
        edit, skipped = await asyncio.to_thread(self.edit_for, state, tree, snapshot)
        if not edit.changes and not edit.document_changes:
            raise TaskError(f"nothing to apply: {'; '.join(skipped)}")
        if not self.ls.session.client.apply_edit:
            return {
                "applied": False,
                "skipped": skipped,
                "edit": self.ls.protocol._converter.unstructure(edit),
            }
        response = await self.ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=edit, label=apply_label(state.instruction, state.status, state.verified)
            )
        )
        if response.applied:
            await asyncio.to_thread(self.manager.mark_applied, task_id)
        return {
            "applied": response.applied,
            "failureReason": response.failure_reason,
            "skipped": skipped,
            "files": [c.path for c in state.changes],
        }


def task_id_of(params: dict[str, Any], command: str) -> str:
    task_id = params.get("taskId")
    if not isinstance(task_id, str):
        raise RequestFailed(f"{command} takes {{taskId, ...}}")
    return task_id


def frontend_of(ls: TreellamaServer) -> AgentFrontend:
    """The server's one AgentFrontend, made at its first use (on the event loop)."""
    if ls.agent is None:
        ls.agent = AgentFrontend(ls, asyncio.get_running_loop())
    return ls.agent
