"""How a task ends: the chosen candidate stays in the task's copy, or, when none does as well
as the code as it was, nothing changes and the log keeps the closest one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from agent.env.test_report import TestReport
from agent.judge import Judged, unified_diff
from agent.loop.tools import ToolContext
from agent.pipeline.stages import GENERATED_TEST
from agent.pipeline.subject import Evidence


@dataclass
class PipelineOutcome:
    status: str  # done, failed, cancelled
    summary: str
    verified: bool
    chosen: Judged | None = None
    report: TestReport | None = None
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    candidates: int = 0


class Finishing(Protocol):
    context: ToolContext
    step: int
    tokens: int
    rejected: list[str]

    def emit(self, kind: str, message: str, **data: Any) -> None: ...


def finish(
    run: Finishing, started: float, chosen: Judged | None, evidence: Evidence, why: str,
    verifiable: bool = False, count: int = 0, tried: list[str] | None = None,
) -> PipelineOutcome:  # fmt: skip
    seconds = time.monotonic() - started
    if chosen is None:
        summary = why or "no candidate could be tested: " + _problems(run.rejected)
        run.emit("failed", summary, reason="no_candidate")
        return PipelineOutcome("failed", summary, False, None, evidence.baseline, run.step,
                               run.tokens, seconds, count)  # fmt: skip
    if verifiable and not chosen.green and not no_worse(chosen, evidence):
        return nothing_better(run, started, chosen, evidence, count, tried or [])
    root, workspace = run.context.root, run.context.tree.workspace
    (root / chosen.path).write_text(chosen.text, encoding="utf-8")
    verified = verifiable and chosen.green
    if verified:
        summary = f"changed {chosen.path}; the tests pass ({chosen.report.summary()})"  # type: ignore[union-attr]
    elif not verifiable:
        summary = f"changed {chosen.path}, UNVERIFIED: no test checks this change"
    else:
        summary = f"changed {chosen.path}, but tests still fail: {chosen.feedback()[:300]}"
    before = (workspace / chosen.path).read_text(encoding="utf-8") \
        if (workspace / chosen.path).exists() else ""  # fmt: skip
    run.emit("chosen", f"{summary} [from {chosen.source}]", path=chosen.path, verified=verified,
             votes=chosen.votes, source=chosen.source, params=dict(chosen.params),
             diff=unified_diff(chosen.path, before, chosen.text))  # fmt: skip
    status = "done" if verified or not verifiable else "failed"
    run.emit(status, summary, verified=verified, reason="" if status == "done" else "red",
             source=chosen.source)  # fmt: skip
    return PipelineOutcome(status, summary, verified, chosen, chosen.report, run.step,
                           run.tokens, seconds, count)  # fmt: skip


def nothing_better(
    run: Finishing, started: float, closest: Judged, evidence: Evidence, count: int,
    tried: list[str],
) -> PipelineOutcome:  # fmt: skip
    """No candidate did as well as the code as it was: the task fails with no change (a test
    it wrote goes too), says what it tried, and the log keeps the closest one."""
    root = run.context.root
    (root / GENERATED_TEST).unlink(missing_ok=True)
    original = (root / closest.path).read_text(encoding="utf-8")
    baseline = evidence.baseline.summary() if evidence.baseline else "unknown"
    says = closest.report.summary() if closest.report else closest.feedback()[:200]
    run.emit("closest", f"the closest candidate, not offered ({closest.source}): {says}",
             path=closest.path, diff=unified_diff(closest.path, original, closest.text),
             feedback=closest.feedback()[:1500], source=closest.source)  # fmt: skip
    summary = (
        f"no change: none of {count} candidates did as well as the code as it was "
        f"({baseline}); tried {'; '.join(tried) or 'no place'}; the closest ({says}) is in "
        "the log"
    )
    run.emit("failed", summary, reason="no_better", verified=False)
    return PipelineOutcome("failed", summary, False, None, evidence.baseline, run.step,
                           run.tokens, time.monotonic() - started, count)  # fmt: skip


def no_worse(candidate: Judged, evidence: Evidence) -> bool:
    """Whether a candidate does at least as well as the code as it was: as many tests pass,
    and none fails that did not fail before (the task's own new test aside)."""
    baseline, report = evidence.baseline, candidate.report
    if baseline is None or report is None or candidate.problem:
        return False
    failing_before = baseline.failed_ids | evidence.targets
    return report.passed >= baseline.passed and report.failed_ids <= failing_before


def _problems(rejected: list[str]) -> str:
    counts: dict[str, int] = {}
    for problem in rejected:
        counts[problem] = counts.get(problem, 0) + 1
    return "; ".join(f"{p} ({n})" for p, n in counts.items()) or "the model wrote none"
