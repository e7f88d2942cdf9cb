"""What every front end shows of an agent task, and how a standalone front end applies one:
plain data from the TaskManager, so the LSP commands, the terminal and the HTTP API answer the
same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import trajectory
from agent.apply_plan import ApplyPlan, plan_apply, read_disk_strict, write_plan
from agent.loop.agent_loop import Event
from agent.tasks import TaskError, TaskManager, TaskState


def task_detail(manager: TaskManager, task_id: str) -> dict[str, Any]:
    """The task's public state, its diff and its changed files."""
    state = manager.status(task_id)
    changes = [{"path": c.path, "before": c.before, "after": c.after} for c in state.changes]
    return {**state.public(), "diff": state.diff, "changes": changes}


def task_log(manager: TaskManager, task_id: str) -> dict[str, Any]:
    """Every record of the task's trajectory (candidates, test output), and as text."""
    state = manager.status(task_id)
    path = Path(state.log)
    records = trajectory.read(path) if path.exists() else []
    return {"path": state.log, "records": records, "text": trajectory.render(records)}


def steer(manager: TaskManager, task_id: str, message: Any) -> dict[str, Any]:
    if not isinstance(message, str) or not message.strip():
        raise TaskError("steering takes {message}: what the agent should know or do")
    manager.steer(task_id, message)
    return {"ok": True}


def apply_to_files(manager: TaskManager, task_id: str) -> tuple[ApplyPlan, dict[str, Any]]:
    """Writes a finished task's changes into the user's files on disk, for a front end with
    no editor (the terminal, the standalone web app), after the user confirmed there. A file
    the user changed since the task started is refused and named, never overwritten."""
    state, tree = manager.finished(task_id)
    plan = plan_apply(state.changes, tree, read_disk_strict(tree))
    if plan.empty:
        why = "; ".join(plan.skipped) or "the task changed nothing"
        raise TaskError(f"nothing to apply: {why}")
    write_plan(tree, plan)
    manager.mark_applied(task_id)
    written = [c.path for c in plan.changes]
    return plan, {"applied": True, "files": written, "deleted": plan.deletions,
                  "skipped": plan.skipped}  # fmt: skip


def event_payload(state: TaskState, event: Event) -> dict[str, Any]:
    """An event as every front end sends it (the LSP's treellama/agentEvent too)."""
    data = {k: v for k, v in event.data.items() if k != "text"}
    if event.kind in ("tool_result", "image"):  # what was read from an image is shown back
        data["text"] = str(event.data.get("text", ""))[:4000]
    return {"taskId": state.id, "kind": event.kind, "step": event.step,
            "maxSteps": state.max_steps, "message": event.message, "data": data}  # fmt: skip
