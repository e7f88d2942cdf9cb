"""Approvals asked in the page, for `treellama web` without an editor: a command that needs the
user's yes waits here, shown to every open page as an `approval` event and listed at
`GET /api/v1/tasks/{id}/approvals`, until `POST …/approvals/{n}` answers it. A task that is
cancelled, or a question left unanswered for `timeout` seconds, counts as a no."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from agent.approvals import ApprovalRequest, Decision
from agent.loop.agent_loop import Event
from agent.tasks import TaskManager
from lsp_server.web.events import TaskEvents

WAIT_S = 600.0


@dataclass
class _Pending:
    id: int
    request: ApprovalRequest
    answered: threading.Event = field(default_factory=threading.Event)
    decision: Decision = Decision.DENY

    def public(self) -> dict[str, Any]:
        request = self.request
        return {"id": self.id, "taskId": request.task_id, "command": request.command,
                "reason": request.reason, "prefix": request.prefix,
                "outsideSandbox": request.outside_sandbox,
                "always": "destructive" not in request.reason}  # fmt: skip


class PageApprover:
    def __init__(self, events: TaskEvents, timeout: float = WAIT_S) -> None:
        self.events = events
        self.timeout = timeout
        self.manager: TaskManager | None = None  # set once the manager exists
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}

    def ask(self, request: ApprovalRequest) -> Decision:  # on the task's thread
        pending = _Pending(next(self._ids), request)
        with self._lock:
            self._pending[pending.id] = pending
        manager = self.manager
        if manager is not None:
            state = manager.status(request.task_id)
            what = f"approval needed: {request.command} ({request.reason})"
            self.events.publish(state, Event("approval", state.step, what, pending.public()))
        cancel = manager.cancel_event(request.task_id) if manager is not None else None
        waited = 0.0
        while not pending.answered.wait(0.25) and waited < self.timeout:
            waited += 0.25
            if cancel is not None and cancel.is_set():
                break
        with self._lock:
            self._pending.pop(pending.id, None)
        return pending.decision if pending.answered.is_set() else Decision.DENY

    def pending(self, task_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p.public() for p in self._pending.values() if p.request.task_id == task_id]

    def answer(self, task_id: str, approval_id: int, decision: str) -> None:
        """KeyError for no such question; ValueError for a decision that is not one."""
        chosen = Decision(decision)
        with self._lock:
            pending = self._pending.get(approval_id)
        if pending is None or pending.request.task_id != task_id:
            raise KeyError(approval_id)
        if chosen is Decision.ALWAYS and "destructive" in pending.request.reason:
            chosen = Decision.ALLOW  # never remembered for a destructive command
        pending.decision = chosen
        pending.answered.set()
