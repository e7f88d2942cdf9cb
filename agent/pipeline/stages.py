"""The stages before the rounds, each from frozen inputs to a frozen output that the runner
writes to the trajectory: reproduce gives `Evidence`; a written test gives new `Evidence`;
localize gives ranked `Region`s (agent.localize, its scorers declared in the config)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agent.approvals import ApprovalRequest, Decision
from agent.env.spectrum import Spectrum, measure
from agent.env.test_files import is_test_path
from agent.env.test_report import TestReport, run_suite
from agent.env.test_source import failing_tests_source
from agent.localize import Region, ambiguous, localize
from agent.loop.tools import ToolContext, detect_test_command
from agent.model import CandidateModel
from agent.pipeline.subject import Evidence
from agent.rewrite import code_of, region_text
from inference.fences import fence_for, reply_stop

Emit = Callable[..., None]  # (kind, message, **data)
GENERATED_TEST = "test_treellama_task.py"
WHOLE_SUITE_SPECTRUM_S = 20.0  # a suite this quick is profiled whole, not only the failing files
CANDIDATE_TIMEOUT_FLOOR_S = 20.0  # a candidate's suite gets at least this long
CANDIDATE_TIMEOUT_FACTOR = 5.0  # ... or this many times the original code's suite


def allow_tests(context: ToolContext) -> Evidence:
    """How the project's tests run for this task, once the approval rules allow it."""
    command = context.test_command or detect_test_command(context.tree.workspace)
    verdict = context.rules.verdict(command)
    if verdict.refused:
        return Evidence(command, True, False)
    if verdict.ask:
        request = ApprovalRequest(
            context.task_id, command, verdict.ask, command.split()[0],
            outside_sandbox=not verdict.confined,
        )  # fmt: skip
        decision = context.approver.ask(request)
        context.on_approval(request, decision)
        if decision is Decision.DENY:
            return Evidence(command, verdict.confined, False)
    return Evidence(command, verdict.confined, True)


def run_tests(
    context: ToolContext, evidence: Evidence, only: tuple[str, ...] = (),
    timeout_s: float | None = None,
) -> TestReport:  # fmt: skip
    return run_suite(
        context.sandbox, context.root, evidence.command, cancel=context.cancel,
        confined=evidence.confined, tests=only, timeout_s=timeout_s,
    )  # fmt: skip


def candidate_timeout(context: ToolContext, evidence: Evidence) -> float | None:
    """A candidate's suite may take a few times what the suite took on the original code,
    when that run was representative (most tests ran and passed): a candidate that loops
    (`range(10**9)` materialized) is red, and waiting out the full command timeout for it
    cost a minute a candidate. Otherwise, the command timeout."""
    baseline = evidence.baseline
    if baseline is None or not baseline.ran or baseline.passed < len(baseline.failures):
        return None
    limit = context.sandbox.settings.command_timeout_s
    return min(limit, max(CANDIDATE_TIMEOUT_FLOOR_S, CANDIDATE_TIMEOUT_FACTOR * evidence.seconds))


def spectrum_of(context: ToolContext, evidence: Evidence) -> Spectrum | None:
    """Which functions the failing tests run, beside the passing tests of the whole suite
    when it is quick, else of the failing tests' files."""
    report = evidence.report
    if report is None or report.runner != "pytest" or not report.failures:
        return None
    files = [f.file for f in report.failures if f.file and is_test_path(f.file)]
    if not files:
        return None
    # Passing tests elsewhere in the suite tell shared, sound code (a base class's
    # `__getitem__`) from what only the failing tests' subject runs.
    whole = evidence.seconds <= WHOLE_SUITE_SPECTRUM_S
    return measure(context.sandbox, context.root, evidence.command, [] if whole else files,
                   cancel=context.cancel, confined=evidence.confined)  # fmt: skip


def reproduce(context: ToolContext, emit: Emit, spectrum: bool = True) -> Evidence:
    evidence = allow_tests(context)
    if not evidence.allowed:
        emit("reproduce", "the tests may not run here: the result will be unverified")
        return evidence
    started = time.monotonic()
    report = run_tests(context, evidence)
    evidence = replace(
        evidence, seconds=time.monotonic() - started, baseline=report, report=report,
        targets=report.failed_ids,
        output="\n\n".join(f"{f.test_id}\n{f.text}" for f in report.failures)[:3000],
        source=failing_tests_source(context.root, report),
    )  # fmt: skip
    if spectrum:
        evidence = replace(evidence, spectrum=spectrum_of(context, evidence))
    emit("reproduce", f"{report.runner}: {report.summary()}", runner=report.runner,
         command=evidence.command, failing=sorted(report.failed_ids),
         output=report.output[-2000:], seconds=round(evidence.seconds, 2))  # fmt: skip
    return evidence


def write_test(
    context: ToolContext, model: CandidateModel, task: str, evidence: Evidence, region: Region,
    emit: Emit, spectrum: bool = True,
) -> tuple[Evidence, int]:  # fmt: skip
    """A pytest test from the task, kept only when it fails on the original code: the new
    evidence (the same when none could be written), and the tokens it took."""
    root = context.root
    code = region_text((root / region.path).read_text(encoding="utf-8"), region)
    module = region.path.removesuffix(".py").replace("/", ".")
    mark = fence_for(code)
    messages = [
        {"role": "system", "content": "You write short, precise pytest tests."},
        {"role": "user", "content": (
            f"The task: {task}\n\nThe code in {region.path}:\n{mark}python\n{code}\n{mark}\n\n"
            f"Write one pytest test function, with its imports (`from {module} import ...`), "
            f"that passes once the task is done and fails now. Reply with the code in one "
            f"{mark}python block.")},
    ]  # fmt: skip
    reply = model.candidates(messages, reply_prefix=f"{mark}python\n", temperatures=[0.0],
                             stop=[reply_stop(mark)], max_tokens=400)  # fmt: skip
    tokens = reply.prompt_tokens + reply.generated_tokens
    test = code_of(reply.texts[0], mark, "python") if reply.texts else ""
    path = root / GENERATED_TEST
    if test.strip():
        path.write_text(test + "\n", encoding="utf-8")
        report = run_tests(context, evidence, (GENERATED_TEST,))
        if report.collected and report.failures and not broken_test(report):
            output = "\n\n".join(f.text for f in report.failures)[:3000]
            evidence = replace(evidence, targets=report.failed_ids, report=report, source=test,
                               output=output)  # fmt: skip
            if spectrum:
                evidence = replace(evidence, spectrum=spectrum_of(context, evidence))
            emit("test_written", f"wrote {GENERATED_TEST}; it fails now, as it should",
                 path=GENERATED_TEST, text=test)  # fmt: skip
            return evidence, tokens
    path.unlink(missing_ok=True)
    emit("test_written", "no test that fails now could be written: unverified")
    return evidence, tokens


def locate(
    context: ToolContext, model: CandidateModel, task: str, evidence: Evidence,
    seen: tuple[Any, ...], scorers: tuple[str, ...], emit: Emit,
) -> list[Region]:  # fmt: skip
    """The ranked regions; when the best few are close and no traceback decides, the model
    picks one from a numbered list."""
    regions = localize(context.root, task, evidence.report, evidence.source, evidence.spectrum,
                       seen, scorers)  # fmt: skip
    if ambiguous(regions):
        listing = "\n".join(f"{i}. {r.describe()}" for i, r in enumerate(regions, 1))
        picked = model.choose(
            [{"role": "user", "content": f"The task: {task}\n\nWhere should the change go?\n"
              f"{listing}\n\nAnswer with the number only."}], len(regions),
        )  # fmt: skip
        regions.insert(0, regions.pop(picked - 1))
    emit("localize", regions[0].describe() if regions else "no place to change was found",
         regions=[{"path": r.path, "first": r.first + 1, "last": r.last + 1, "name": r.name,
                   "kind": r.kind, "score": round(r.score, 2), "reasons": list(r.reasons)}
                  for r in regions])  # fmt: skip
    return regions


def broken_test(report: TestReport) -> bool:
    """A generated test that fails by its own fault (its syntax, a missing fixture)."""
    return any(
        "SyntaxError" in f.text or "fixture '" in f.text or "IndentationError" in f.text
        for f in report.failures
    )
