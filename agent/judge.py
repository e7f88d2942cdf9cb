"""Judging candidate rewrites in the task's copy: parse, change, tests; then choose.

A candidate must parse with no new syntax errors, actually change the file, and is then run
against the project's tests in the sandbox (the file is restored afterwards). Candidates that
normalise to the same code are run once and counted as votes. The order of choice: the whole
suite green; then more of the target tests passing; then more tests passing overall; then more
of the target tests failing otherwise than before (the change reached them); then more samples
agreeing; then the smallest diff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.editing.edits import syntax_errors
from agent.env.test_report import TestReport
from indexing.parsing import parse
from indexing.symbols import definitions, flatten

UNCHANGED = "it changes nothing"
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")  # object addresses differ from run to run


@dataclass
class Judged:
    path: str
    text: str  # the whole file with the candidate in place
    code: str  # the candidate's code (for repair prompts)
    report: TestReport | None = None
    problem: str = ""  # why it was rejected before the tests, if it was
    votes: int = 1
    diff_lines: int = 0
    targets: frozenset[str] = frozenset()
    before: Mapping[str, str] = field(default_factory=dict)  # target id: its failure, unchanged
    source: str = ""  # the candidate source that made it (agent.pipeline.sources)
    params: Mapping[str, Any] = field(default_factory=dict)  # and how

    @property
    def green(self) -> bool:
        return not self.problem and self.report is not None and self.report.green

    @property
    def fixed(self) -> int:
        if self.report is None or self.problem:
            return 0
        return len(self.targets & self.report.passed_ids) if self.targets else 0

    @property
    def moved(self) -> int:
        """Target tests that still fail, but otherwise than on the unchanged code. Among
        candidates that pass as many tests, one that moved them is the better one to show the
        repair round: `humanize`'s `word[:-4]`, one character short, turned "'Employee id'"
        into "'Employe'", where the smallest diff changed nothing the tests could see."""
        if self.report is None or self.problem:
            return 0
        return sum(
            1
            for f in self.report.failures
            if f.test_id in self.before
            and ADDRESS.sub("", f.message) != ADDRESS.sub("", self.before[f.test_id])
        )

    @property
    def reached(self) -> bool:
        """Whether it changed how the target tests fail and broke no other test."""
        return self.moved > 0 and self.report is not None and self.report.failed_ids <= self.targets

    def rank(self) -> tuple[int, int, int, int, int, int]:
        passed = self.report.passed if self.report and not self.problem else -1
        return (int(self.green), self.fixed, passed, self.moved, self.votes, -self.diff_lines)

    def feedback(self) -> str:
        if self.problem:
            return self.problem
        if self.report is None:
            return "not tested"
        failing = "\n\n".join(
            f"{f.test_id}: {f.message}\n{f.text[-600:]}" for f in self.report.failures[:3]
        )
        return f"{self.report.summary()}\n{failing}".strip()


def normalized(code: str) -> str:
    """For counting agreeing samples and spotting no-ops: the same code up to blank lines,
    trailing spaces and whole-line comments."""
    return "\n".join(
        line.rstrip()
        for line in code.split("\n")
        if line.strip() and not line.lstrip().startswith(("#", "//"))
    )


def diff_size(before: str, after: str) -> int:
    lines = difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=0)
    return sum(1 for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---"))


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    )


def defined_names(text: str, language: str | None) -> set[str]:
    if language is None:
        return set()
    tree = parse(text.encode("utf-8"), language)
    return {s.name for s in flatten(definitions(tree, language))} if tree is not None else set()


def lost_definitions(original: str, candidate: str, language: str | None) -> list[str]:
    return sorted(defined_names(original, language) - defined_names(candidate, language))


def copied_tests(original: str, candidate: str, module: str) -> bool:
    """Small models often paste the tests they were shown into the code: test functions, or
    an import of the very module they are in."""
    before = set(original.split("\n"))
    added = [line for line in candidate.split("\n") if line not in before]
    own_import = re.compile(rf"^\s*from\s+{re.escape(module)}\s+import\b") if module else None
    return any(
        re.match(r"\s*def test_\w*\(", line) or (own_import and own_import.match(line))
        for line in added
    )


def precheck(
    original: str,
    candidate: str,
    language: str | None,
    may_remove: bool = False,
    module: str = "",
) -> str:
    """Why a candidate is rejected before any test runs; "" when it may be tested."""
    if normalized(candidate) == normalized(original):
        return UNCHANGED
    if copied_tests(original, candidate, module):
        return "it copies the tests into the code instead of changing the code"
    if not may_remove:
        lost = lost_definitions(original, candidate, language)
        if lost:
            return f"it deletes {', '.join(lost[:5])}, which the task does not ask to remove"
    before = syntax_errors(original, language)
    after = syntax_errors(candidate, language)
    if before is not None and after is not None and len(after) > len(before):
        row = next((r for r in after if r not in before), after[0])
        line = candidate.split("\n")[row].strip() if row < candidate.count("\n") + 1 else ""
        return f"it does not parse: syntax error at line {row + 1}: {line!r}"
    return ""


def run_with(root: Path, path: str, text: str, run: Callable[[], TestReport]) -> TestReport:
    """Runs the tests with `text` in place of `path`, then puts the file back."""
    target = root / path
    original = target.read_text(encoding="utf-8") if target.exists() else None
    target.write_text(text, encoding="utf-8")
    try:
        return run()
    finally:
        if original is None:
            target.unlink(missing_ok=True)
        else:
            target.write_text(original, encoding="utf-8")


def best(judged: list[Judged]) -> Judged | None:
    testable = [j for j in judged if not j.problem]
    if not testable:
        return None
    return max(testable, key=lambda j: j.rank())
