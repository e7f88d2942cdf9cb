"""What a task is, as every front end sees it, and what it may be: its state, the errors
that name why a request about it failed, and the label of its edit."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.env.worktree import FileDiff, TaskTree
from agent.images import (
    ImageInput,
)
from agent.loop.agent_loop import AgentLoop
from agent.pipeline import Pipeline

FINAL = ("done", "failed", "cancelled", "refused", "applied", "discarded")


# A task that failed (out of steps, a model error) keeps what it changed for review, as a
# finished one does: the user decides whether its partial work is worth applying.
REVIEWABLE = ("done", "failed")


LIVE = ("starting", "running")  # still working: events still come


class TaskError(Exception):
    """A request about a task that cannot be honoured; the message is for the user."""


class UnknownTask(TaskError):
    """No task has that id (in this process)."""


class VagueInstruction(TaskError):
    """The instruction gives nothing to act on; the message is the question to ask back."""


@dataclass
class TaskState:
    id: str
    instruction: str
    effort: str
    approval_policy: str
    # starting, running, done, failed, cancelled, refused, applied, discarded
    status: str = "starting"
    step: int = 0
    max_steps: int = 0
    message: str = ""
    summary: str = ""
    tokens: int = 0
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    log: str = ""
    changes: list[FileDiff] = field(default_factory=list)
    strategy: str = ""  # pipeline, loop, or pipeline+loop: what ran
    images: list[dict] = field(default_factory=list)  # each accepted image, and what was read
    verified: bool | None = None  # True: the tests checked it; False: nothing could

    def public(self) -> dict:
        return {
            "taskId": self.id,
            "instruction": self.instruction,
            "status": self.status,
            "live": self.status in LIVE,
            "effort": self.effort,
            "approvalPolicy": self.approval_policy,
            "step": self.step,
            "maxSteps": self.max_steps,
            "message": self.message,
            "summary": self.summary,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 1),
            "log": self.log,
            "files": [c.path for c in self.changes],
            "strategy": self.strategy,
            "verified": self.verified,
            "images": [{k: v for k, v in image.items() if k != "text"} for image in self.images],
        }

    @property
    def diff(self) -> str:
        return "".join(change.unified() for change in self.changes)


def apply_label(instruction: str, status: str, verified: bool | None = None) -> str:
    """How the editor names the edit that applies a task (its undo entry, its preview)."""
    partial = " (partial: the task did not finish)" if status == "failed" else ""
    if status != "failed" and verified is False:
        partial = " (unverified: no test checked it)"
    return f"treellama agent: {instruction[:60]}{partial}"


def workspace_key(workspace: Path) -> str:
    resolved = str(workspace.resolve())
    return f"{Path(resolved).name}-{hashlib.blake2b(resolved.encode(), digest_size=6).hexdigest()}"


@dataclass
class _Running:
    state: TaskState
    tree: TaskTree | None = None
    loop: AgentLoop | Pipeline | None = None  # what is running: it takes steering
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    early_steers: list[str] = field(default_factory=list)  # before the loop exists
    images: list[ImageInput] = field(default_factory=list)
