"""Which of an agent task's changes may reach the user's files, decided once for every front
end (the editor's WorkspaceEdit, the terminal's writes, the HTTP API): a file the user changed
since the task started is left out and named, never overwritten; so is a binary file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.editing.edits import FileChange, minimal_edits
from agent.env.worktree import FileDiff, TaskTree, text_digest

# The user's current text of a file (an open buffer, else the disk; None: no such file, or
# not UTF-8) and its editor version (None: not open).
CurrentText = Callable[[str], tuple[str | None, int | None]]


@dataclass
class ApplyPlan:
    changes: list[FileChange] = field(default_factory=list)  # minimal edits on the current text
    versions: dict[str, int | None] = field(default_factory=dict)
    deletions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path (why)"

    @property
    def empty(self) -> bool:
        return not self.changes and not self.deletions


def plan_apply(diffs: list[FileDiff], tree: TaskTree, current: CurrentText) -> ApplyPlan:
    plan = ApplyPlan()
    for diff in diffs:
        text, version = current(diff.path)
        now = None if text is None else text_digest(text)
        if diff.binary or now != tree.base.get(diff.path):
            why = "binary" if diff.binary else "changed since the task started"
            plan.skipped.append(f"{diff.path} ({why})")
        elif diff.after is None:
            plan.deletions.append(diff.path)
        else:
            edits = minimal_edits(text or "", diff.after)
            plan.changes.append(FileChange(diff.path, text, diff.after, edits))
            plan.versions[diff.path] = version
    return plan


def read_disk_strict(tree: TaskTree) -> CurrentText:
    """The files as they are on disk (the terminal has no buffers)."""

    def current(relative: str) -> tuple[str | None, int | None]:
        path = tree.workspace / relative
        try:
            return path.read_bytes().decode("utf-8"), None
        except (OSError, UnicodeDecodeError):
            return None, None

    return current


def write_plan(tree: TaskTree, plan: ApplyPlan) -> None:
    """Writes a plan's changes and deletions into the user's files on disk (for front ends
    with no editor to send an edit to, once the user said yes)."""
    for change in plan.changes:
        target = tree.workspace / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, change.new_text)
    for path in plan.deletions:
        (tree.workspace / path).unlink(missing_ok=True)


def write_atomically(target: Path, text: str) -> None:
    """The file's new text, replacing the old in one step (a file beside it, renamed over it,
    the old mode kept): an editor or a watcher reading the file meanwhile sees the old text or
    the new, never an empty or half-written file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if target.exists():
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
