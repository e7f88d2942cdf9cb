"""A refactoring's change, checked by the project's own tests before it is offered.

The tests run in a sandboxed copy of the workspace (the same copy and sandbox an agent task
uses), first on the code as it is, then with the change. A change passes when the tests are
green with it; otherwise it fails, and the detail tells the failures it brought from those that
were red before it. The check is skipped, and says why, when there is no sandbox, no test
runner, or the tests take longer than the cap.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from agent.env.sandbox import Sandbox, SandboxReport, probe
from agent.env.test_files import is_test_path
from agent.env.test_report import TestReport, run_suite
from agent.env.worktree import TaskTree, files_under
from agent.loop.tools import detect_test_command
from agent.settings import AgentSettings


@dataclass(frozen=True)
class SuiteVerdict:
    status: str  # "pass", "fail" or "unchecked"
    detail: str  # what the tests said, or why they were not run

    @property
    def red(self) -> bool:
        return self.status == "fail"


@cache
def sandbox_report(preferred: str) -> SandboxReport:
    """The sandbox layer, probed once per process (it starts real sandboxes to find out)."""
    return probe(preferred)


def has_runner(workspace: Path, command: str) -> bool:
    """Whether the project has tests that `command` (or the detected runner) would run."""
    if command:
        return True
    if (workspace / "Cargo.toml").exists() or (workspace / "go.mod").exists():
        return True
    if (workspace / "package.json").exists():
        return '"test"' in (workspace / "package.json").read_text(errors="replace")
    return any(is_test_path(path) for path in files_under(workspace))


@dataclass
class SuiteVerifier:
    """Runs the project's tests on changed file texts, each in a fresh sandboxed copy."""

    workspace: Path
    settings: AgentSettings
    sandbox: SandboxReport
    cap_s: float
    scratch: Path | None = None  # where copies go; a temporary folder when None
    # What the tests said of each base, so a resampled change does not run the base again.
    _baselines: dict[tuple[tuple[str, str], ...], TestReport | None] = field(
        default_factory=dict, repr=False
    )

    def unavailable(self) -> str:
        """Why the tests cannot check a change here; empty when they can."""
        if self.cap_s <= 0:
            return "checking refactorings with the tests is off"
        if self.sandbox.layer == "none":
            return "no sandbox to run the tests in"
        if not has_runner(self.workspace, self.settings.test_command):
            return "no tests found"
        return ""

    def check(self, base: dict[str, str], changed: dict[str, str]) -> SuiteVerdict:
        """`base`: the texts the change starts from (unsaved buffers included), by path
        relative to the workspace; `changed`: the same paths after the change."""
        reason = self.unavailable()
        if reason:
            return SuiteVerdict("unchecked", reason)
        key = tuple(sorted(base.items()))
        if key not in self._baselines:
            self._baselines[key] = self._run(base)
        before = self._baselines[key]
        if before is None:
            return SuiteVerdict("unchecked", f"the tests take longer than {self.cap_s:g} s")
        after = self._run(changed)
        if after is None:
            return SuiteVerdict("fail", f"the tests no longer finish within {self.cap_s:g} s")
        return judge(before, after)

    def _run(self, texts: dict[str, str]) -> TestReport | None:
        scratch = Path(tempfile.mkdtemp(prefix="treellama-verify-", dir=self.scratch))
        try:
            tree = TaskTree.create(self.workspace, scratch / "tree")
            try:
                for path, text in texts.items():
                    target = tree.root / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                needed = (self.workspace,)
                sandbox = Sandbox(tree.root, scratch, self.settings, self.sandbox, needed)
                command = self.settings.test_command or detect_test_command(self.workspace)
                report = run_suite(sandbox, tree.root, command, timeout_s=self.cap_s)
            finally:
                tree.remove()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None if report.timed_out else report


def judge(before: TestReport, after: TestReport) -> SuiteVerdict:
    """Green after the change passes; any failure fails it, and the detail says which
    failures are new and which were there before the change."""
    if before.ran and not after.ran:
        return SuiteVerdict("fail", f"the tests no longer run: {_tail(after.output)}")
    if not after.ran:
        return SuiteVerdict("unchecked", "no tests ran")
    if after.green:
        return SuiteVerdict("pass", after.summary())
    new = sorted(after.failed_ids - before.failed_ids)
    old = sorted(after.failed_ids & before.failed_ids)
    shown = "\n\n".join(f.text for f in after.failures if f.test_id in set((new or old)[:3]))
    head = f"{len(new)} test(s) fail with the change: {', '.join(new[:5])}" if new else ""
    if old:
        head += "; " if head else ""
        head += f"{len(old)} still fail as before it: {', '.join(old[:5])}"
    return SuiteVerdict("fail", f"{head}\n{shown or _tail(after.output)}")


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().split("\n")[-lines:])
