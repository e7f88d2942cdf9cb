"""A task's life after it runs, and the register of tasks: its state, waiting for it, its
result read, applied to the user's files, discarded or committed (agent.tasks runs them)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import replace
from pathlib import Path

from agent.env.worktree import TaskTree
from agent.task_state import LIVE, REVIEWABLE, TaskError, TaskState, UnknownTask, _Running


class TaskReview:
    workspace: Path
    _tasks: dict[str, _Running]
    _lock: threading.Lock

    def cancel_event(self, task_id: str) -> threading.Event:
        return self._get(task_id).cancel

    def _get(self, task_id: str) -> _Running:
        with self._lock:
            running = self._tasks.get(task_id)
        if running is None:
            raise UnknownTask(f"no task {task_id!r}; treellama.agent.list shows the tasks")
        return running

    def wait(self, task_id: str, timeout: float | None = None) -> TaskState:
        running = self._get(task_id)
        if running.thread is not None:
            running.thread.join(timeout)
        return replace(running.state)

    def status(self, task_id: str) -> TaskState:
        return replace(self._get(task_id).state)

    def list(self) -> list[TaskState]:
        with self._lock:
            return [replace(r.state) for r in self._tasks.values()]

    def finished(self, task_id: str) -> tuple[TaskState, TaskTree]:
        """A done (or failed) task's result, ready to apply; TaskError if there is none."""
        running = self._get(task_id)
        state = running.state
        if state.status in REVIEWABLE and not state.changes:
            raise TaskError(f"task {task_id} changed no files")
        if state.status not in REVIEWABLE or running.tree is None:
            raise TaskError(f"task {task_id} is {state.status}: there is nothing to apply")
        return replace(state), running.tree

    def mark_applied(self, task_id: str) -> None:
        running = self._get(task_id)
        running.state.status = "applied"
        if running.tree is not None:
            running.tree.remove()
            running.tree = None

    def discard(self, task_id: str) -> TaskState:
        running = self._get(task_id)
        if running.state.status in LIVE:
            raise TaskError(f"task {task_id} is running; cancel it first")
        if running.tree is not None:
            running.tree.remove()
            running.tree = None
        if running.state.status in REVIEWABLE:
            running.state.status = "discarded"
        return replace(running.state)

    def commit(self, task_id: str, message: str) -> str:
        """Commits the applied task's files, and only those, once they are saved as applied."""
        state = self.status(task_id)
        if state.status != "applied":
            raise TaskError(f"task {task_id} is {state.status}; apply it before committing")
        if not message.strip():
            raise TaskError("give a commit message")
        for change in state.changes:
            path = self.workspace / change.path
            now = path.read_text(encoding="utf-8") if path.exists() else None
            if now != change.after:
                raise TaskError(f"{change.path} is not saved as the task left it; save it first")
        paths = [c.path for c in state.changes]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["git", "-C", str(self.workspace), *args],
                capture_output=True,
                text=True,
                timeout=60,
            )

        added = run("add", "-A", "--", *paths)
        committed = added
        if added.returncode == 0:
            committed = run("commit", "-q", "-m", message, "--", *paths)
        if committed.returncode != 0:
            raise TaskError(f"git commit failed: {(committed.stderr or committed.stdout).strip()}")
        return run("rev-parse", "HEAD").stdout.strip()
