"""`treellama agent "instruction" --workspace DIR`: the same task loop in a terminal, with live
progress, y/n approvals, and the diff applied to the files only when the user says so.
`treellama agent log ID` renders a task's log."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from agent import trajectory
from agent.approvals import ApprovalRequest, Decision
from agent.images import ImageInput
from agent.loop.agent_loop import Event
from agent.task_views import apply_to_files
from agent.tasks import TaskError, TaskManager, TaskState

# `treellama agent`'s exit status (docs/agent.md): scripts tell a checked change from one
# that no test checked, and both from a task that failed.
EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2  # not started: refused, a question back, or bad arguments
EXIT_UNVERIFIED = 3


class TerminalApprover:
    def __init__(self, ask: Callable[[str], str] = input, out: TextIO = sys.stdout) -> None:
        self.ask_user = ask
        self.out = out
        self.lock = threading.Lock()

    def ask(self, request: ApprovalRequest) -> Decision:
        where = "outside the sandbox" if request.outside_sandbox else "in the sandbox"
        what = f"run {where}: {request.command}"
        if request.prefix == "read":  # an image outside the workspace (agent.images)
            what = request.command
        with self.lock:
            self.out.write(f"\n  ? {what}\n    ({request.reason})\n")
            try:
                answer = str(
                    self.ask_user(f"    allow? [y]es / [a]lways `{request.prefix}` / [N]o: ")
                )
            except EOFError:
                answer = ""
        answer = answer.strip().lower()
        if answer in ("a", "always"):
            return Decision.ALWAYS
        return Decision.ALLOW if answer in ("y", "yes") else Decision.DENY


def print_event(state: TaskState, event: Event, out: TextIO = sys.stdout) -> None:
    if event.kind == "tool_call":
        out.write(f"[{event.step}/{state.max_steps}] {event.message}\n")
        thought = str(event.data.get("thought", "")).strip()
        if thought:
            out.write(f"      {thought[:200]}\n")
    elif event.kind == "tool_result":
        mark = "ok" if event.data.get("ok") else "failed"
        first = event.message.split("\n")[0][:120]
        out.write(f"      -> {mark}: {first}\n")
    elif event.kind in ("reproduce", "localize", "candidate", "validate", "test_written"):
        # The pipeline's steps depend on what it finds (near misses, more rounds): no total.
        out.write(f"[{event.step}] {event.kind}: {event.message}\n")
    elif event.kind == "image":
        out.write(f"  image: {event.message}\n")
        for line in str(event.data.get("text", "")).splitlines()[:40]:
            out.write(f"      | {line}\n")
    elif event.kind in ("chosen", "closest", "plan", "steer", "compaction", "format_error",
                        "done", "failed"):  # fmt: skip
        out.write(f"  {event.kind}: {event.message}\n")
    out.flush()


def run_in_terminal(manager: TaskManager, instruction: str, effort: str | None, policy: str | None,
                    apply: str, ask: Callable[[str], str] = input,
                    out: TextIO = sys.stdout, images: list[ImageInput] | None = None,
                    ) -> int:  # fmt: skip
    """Runs one task to its end; returns the exit status: EXIT_DONE when the tests passed
    on its change (or it changed nothing), EXIT_UNVERIFIED when it changed files no test
    checked, EXIT_FAILED when it did not finish, EXIT_REFUSED when it was not started."""
    state = manager.start(instruction, effort, policy, images)
    out.write(f"task {state.id} ({state.effort} effort, approvals {state.approval_policy}, "
              f"sandbox {manager.sandbox.layer})\n")  # fmt: skip
    if state.status == "refused":
        out.write(f"refused: {state.message}\n")
        return EXIT_REFUSED
    try:
        state = manager.wait(state.id)
    except KeyboardInterrupt:
        manager.cancel(state.id)
        state = manager.wait(state.id)
    finished = state.status == "done"
    unverified = finished and bool(state.changes) and state.verified is False
    shown = "done, UNVERIFIED" if unverified else state.status
    out.write(f"\n{shown}: {state.summary}\n{state.tokens:,} tokens, "
              f"{state.seconds:.0f} s, log: treellama agent log {state.id}\n")  # fmt: skip
    status = EXIT_UNVERIFIED if unverified else EXIT_DONE if finished else EXIT_FAILED
    if not state.changes:
        if finished:
            out.write("no files changed\n")
        return status
    out.write("\n" + state.diff + "\n")
    # A failed task's partial changes are applied only when the user says so, never by --apply yes.
    answer = apply if finished else ("ask" if apply == "ask" else "n")
    if answer == "ask":
        question = ("apply these changes to your files? [y/N]: " if finished
                    else "the task did not finish; apply its partial changes? [y/N]: ")  # fmt: skip
        try:
            answer = str(ask(question)).strip().lower()
        except EOFError:
            answer = "n"
    if answer in ("y", "yes"):
        # The same apply as the standalone web page's (agent.task_views): files the user
        # changed since the task began are skipped and named, never overwritten.
        try:
            plan, _ = apply_to_files(manager, state.id)
        except TaskError as exc:
            out.write(f"nothing applied: {exc}\n")
            return status
        for skipped in plan.skipped:
            out.write(f"  skipped {skipped}\n")
        out.write(f"applied to {len(plan.changes) + len(plan.deletions)} file(s)\n")
    else:
        manager.discard(state.id)
        out.write("discarded; your files are unchanged\n")
    return status


def show_log(task_id: str, out: TextIO = sys.stdout) -> int:
    path = trajectory.find_log(task_id)
    if path is None:
        out.write(f"no log for task {task_id} under {trajectory.agent_dir()}\n")
        return 1
    out.write(trajectory.render(trajectory.read(path)) + "\n")
    return 0


def list_logs(workspace_key: str, out: TextIO = sys.stdout, limit: int = 20) -> int:
    """`treellama agent log` with no id: this workspace's recent tasks, newest first."""
    found = trajectory.summaries(workspace_key)
    if not found:
        out.write("no agent tasks have run in this workspace yet\n")
        return 0
    for summary in found[:limit]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.started))
        out.write(f"{summary.task_id}  {when}  {summary.instruction[:60]!r}\n"
                  f"    {summary.outcome[:160]}\n")  # fmt: skip
    more = f" (the newest {limit} of {len(found)})" if len(found) > limit else ""
    out.write(f"\nshow one with: treellama agent log ID{more}\n")
    return 0


def workspace_path(value: str | None) -> Path:
    return Path(value or ".").resolve()
