"""The test-driven pipeline: the control flow is code, the model only writes candidates.

    reproduce  run the tests in the sandbox; failures become data (agent.test_report)
    localize   find the place from tracebacks, the tests' calls, the task's words (agent.localize)
    candidate  N rewrites of that place from one prompt: one greedy, the rest sampled
    validate   parse, change, then the tests, for each distinct candidate (agent.judge)
    chosen     the best candidate stays in the task's copy; repair rounds feed failures back

With no failing test, the model first writes a test; it is kept only if it fails on the
original code. With none, the result is offered as unverified. Steering and cancel take
effect between stages and between candidates. Effort sets N and the rounds.
"""

from __future__ import annotations

import queue
import re
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.approvals import ApprovalRequest, Decision
from agent.class_context import ShownCode, class_context, drop_copied_members
from agent.class_outline import class_outline, module_outline
from agent.doubt_branches import branches
from agent.edits import EditRejected
from agent.judge import (
    Judged,
    best,
    diff_size,
    lost_definitions,
    normalized,
    precheck,
    run_with,
    unified_diff,
)  # fmt: skip
from agent.line_trace import executed_rows
from agent.localize import Region, ambiguous, localize, traced
from agent.loop import Event, TaskCancelled
from agent.merge import merge_rewrite
from agent.model import CandidateModel, Candidates
from agent.named_context import named_definitions
from agent.near_miss import Neighbour, off_by_one, self_qualified
from agent.python_imports import (
    TrimmedReply,
    add_imports,
    needed_imports,
    trim_leading_imports,
)
from agent.rewrite import (
    Attempt,
    code_of,
    definition_head,
    docstring_lines,
    prompt,
    region_text,
    splice_code,
)  # fmt: skip
from agent.spectrum import Spectrum, measure
from agent.suspect_edits import single_edits, suspect_rows
from agent.test_files import is_test_path
from agent.test_report import Frame, TestReport, run_suite, runner_of
from agent.test_source import failing_tests_source
from agent.tools import ToolContext, detect_test_command
from agent.trajectory import Trajectory
from indexing.languages import language_for
from inference.fences import fence_for, opening_fence, reply_stop


@dataclass(frozen=True)
class PipelineBudget:
    candidates: int
    rounds: int
    max_tokens: int = 1024
    temperature: float = 0.8
    doubts: int = 0  # rewrites that start at a doubted token, when the greedy one is a copy
    edits: int = 0  # single-token edits at the suspect lines, in a round with nothing green
    # A quick suite gets more edits, up to EDIT_FACTOR times as many, while they would take
    # about this long in all (by the original code's suite time).
    edit_seconds: float = 0.0


PIPELINE_BUDGETS = {
    "low": PipelineBudget(candidates=3, rounds=1, doubts=3, edits=4, edit_seconds=30.0),
    "medium": PipelineBudget(candidates=6, rounds=2, doubts=6, edits=6, edit_seconds=30.0),
    "high": PipelineBudget(candidates=8, rounds=3, doubts=8, edits=8, edit_seconds=30.0),
}
GENERATED_TEST = "test_treellama_task.py"
CHARS_PER_TOKEN = 3  # code, roughly, in these models' tokenizers (an overestimate of tokens)
WHOLE_SUITE_SPECTRUM_S = 20.0  # a suite this quick is profiled whole, not only the failing files
WHOLE_REPLY_SHARE = 0.8  # a function longer than this share of a reply loses its docstring
CANDIDATE_TIMEOUT_FLOOR_S = 20.0  # a candidate's suite gets at least this long
CANDIDATE_TIMEOUT_FACTOR = 5.0  # ... or this many times the original code's suite
EDIT_FACTOR = 3  # a quick suite's round may judge up to this many times the budget's edits
SMALL_MODEL_PARAMS = 1_000_000_000  # below this, half of a round's candidates get a bare prompt


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


@dataclass
class _Tests:
    """How the project's tests are run for this task, once allowed."""

    command: str
    confined: bool
    allowed: bool
    targets: frozenset[str] = frozenset()
    source: str = ""  # the failing tests' code, for the prompt
    output: str = ""  # what they print now
    baseline: TestReport | None = None
    evidence: TestReport | None = None  # what localization reads: the baseline, or the new test
    spectrum: Spectrum | None = None  # which functions the failing tests ran (pytest only)
    seconds: float = 0.0  # how long the whole suite took


@dataclass
class Pipeline:
    model: CandidateModel
    context: ToolContext
    instruction: str
    budget: PipelineBudget
    trajectory: Trajectory | None = None
    on_event: Callable[[Event], None] = lambda event: None
    step: int = 0
    tokens: int = 0
    steering: queue.SimpleQueue[str] = field(default_factory=queue.SimpleQueue)
    notes: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why candidates were not tested
    scope: str = "function"  # what a located Python function's rewrite covers (AgentSettings)
    seen: tuple[Frame, ...] = ()  # places read from the task's images, as project paths
    executed: dict[str, frozenset[int] | None] = field(default_factory=dict)  # rows, by path

    @property
    def max_steps(self) -> int:
        return 3 + self.budget.rounds * (self.budget.candidates + self.budget.doubts + 1)

    @property
    def cancel(self) -> threading.Event:
        return self.context.cancel

    def steer(self, message: str) -> None:
        self.steering.put(message)

    def _emit(self, kind: str, message: str, **data: Any) -> None:
        self.step += 1
        if self.trajectory is not None:
            self.trajectory.write(kind, step=self.step, message=message, **data)
        self.on_event(Event(kind, self.step, message, data))

    def _checkpoint(self) -> None:
        """Between stages and candidates: cancel, and steering messages join the task."""
        if self.cancel.is_set():
            raise TaskCancelled
        while True:
            try:
                message = self.steering.get_nowait()
            except queue.Empty:
                return
            self.notes.append(message)
            self._emit("steer", message)

    def _task(self) -> str:
        notes = "".join(f"\nThe user adds: {note}" for note in self.notes)
        return self.instruction + notes

    # -- reproduce ---------------------------------------------------------------------------

    def _allow_tests(self) -> _Tests:
        command = self.context.test_command or detect_test_command(self.context.tree.workspace)
        verdict = self.context.rules.verdict(command)
        if verdict.refused:
            return _Tests(command, True, False)
        if verdict.ask:
            request = ApprovalRequest(
                self.context.task_id, command, verdict.ask, command.split()[0],
                outside_sandbox=not verdict.confined,
            )  # fmt: skip
            decision = self.context.approver.ask(request)
            self.context.on_approval(request, decision)
            if decision is Decision.DENY:
                return _Tests(command, verdict.confined, False)
        return _Tests(command, verdict.confined, True)

    def _run(
        self, tests: _Tests, only: tuple[str, ...] = (), timeout_s: float | None = None
    ) -> TestReport:
        return run_suite(
            self.context.sandbox, self.context.root, tests.command,
            cancel=self.cancel, confined=tests.confined, tests=only, timeout_s=timeout_s,
        )  # fmt: skip

    def _candidate_timeout(self, tests: _Tests) -> float | None:
        """A candidate's suite may take a few times what the suite took on the original code,
        when that run was representative (most tests ran and passed): a candidate that loops
        (`range(10**9)` materialized) is red, and waiting out the full command timeout for it
        cost a minute a candidate. Otherwise, the command timeout."""
        baseline = tests.baseline
        if baseline is None or not baseline.ran or baseline.passed < len(baseline.failures):
            return None
        limit = self.context.sandbox.settings.command_timeout_s
        return min(limit, max(CANDIDATE_TIMEOUT_FLOOR_S, CANDIDATE_TIMEOUT_FACTOR * tests.seconds))

    def _measure_spectrum(self, tests: _Tests) -> None:
        """Which functions the failing tests run, beside the passing tests of the whole suite
        when it is quick, else of the failing tests' files."""
        report = tests.evidence
        if report is None or report.runner != "pytest" or not report.failures:
            return
        files = [f.file for f in report.failures if f.file and is_test_path(f.file)]
        if not files:
            return
        # Passing tests elsewhere in the suite tell shared, sound code (a base class's
        # `__getitem__`) from what only the failing tests' subject runs.
        whole = tests.seconds <= WHOLE_SUITE_SPECTRUM_S
        tests.spectrum = measure(
            self.context.sandbox, self.context.root, tests.command, [] if whole else files,
            cancel=self.cancel, confined=tests.confined,
        )  # fmt: skip

    def _reproduce(self) -> _Tests:
        tests = self._allow_tests()
        if not tests.allowed:
            self._emit("reproduce", "the tests may not run here: the result will be unverified")
            return tests
        started = time.monotonic()
        report = self._run(tests)
        tests.seconds = time.monotonic() - started
        tests.baseline = tests.evidence = report
        tests.targets = report.failed_ids
        tests.output = "\n\n".join(f"{f.test_id}\n{f.text}" for f in report.failures)[:3000]
        tests.source = failing_tests_source(self.context.root, report)
        self._measure_spectrum(tests)
        self._emit(
            "reproduce",
            f"{report.runner}: {report.summary()}",
            runner=report.runner,
            command=tests.command,
            failing=sorted(report.failed_ids),
            output=report.output[-2000:],
        )
        return tests

    # -- a test for a request that none captures -------------------------------------------

    def _write_test(self, tests: _Tests, region: Region) -> None:
        root = self.context.root
        code = region_text((root / region.path).read_text(encoding="utf-8"), region)
        module = region.path.removesuffix(".py").replace("/", ".")
        mark = fence_for(code)
        messages = [
            {"role": "system", "content": "You write short, precise pytest tests."},
            {
                "role": "user",
                "content": (
                    f"The task: {self._task()}\n\nThe code in {region.path}:\n{mark}python\n"
                    f"{code}\n{mark}\n\nWrite one pytest test function, with its imports (`from "
                    f"{module} import ...`), that passes once the task is done and fails now. "
                    f"Reply with the code in one {mark}python block."
                ),
            },
        ]
        reply = self.model.candidates(
            messages, reply_prefix=f"{mark}python\n", temperatures=[0.0],
            stop=[reply_stop(mark)], max_tokens=400,
        )  # fmt: skip
        self.tokens += reply.prompt_tokens + reply.generated_tokens
        test = code_of(reply.texts[0], mark, "python") if reply.texts else ""
        path = root / GENERATED_TEST
        if test.strip():
            path.write_text(test + "\n", encoding="utf-8")
            report = self._run(tests, (GENERATED_TEST,))
            if report.collected and report.failures and not _broken_test(report):
                tests.targets, tests.evidence = report.failed_ids, report
                tests.source = test
                tests.output = "\n\n".join(f.text for f in report.failures)[:3000]
                self._measure_spectrum(tests)
                self._emit("test_written", f"wrote {GENERATED_TEST}; it fails now, as it should",
                           path=GENERATED_TEST, text=test)  # fmt: skip
                return
        path.unlink(missing_ok=True)
        self._emit("test_written", "no test that fails now could be written: unverified")

    # -- localize -----------------------------------------------------------------------------

    def _localize(self, tests: _Tests) -> list[Region]:
        regions = localize(
            self.context.root,
            self._task(),
            tests.evidence,
            tests.source,
            tests.spectrum,
            self.seen,
        )
        if ambiguous(regions):
            listing = "\n".join(f"{i}. {r.describe()}" for i, r in enumerate(regions, 1))
            picked = self.model.choose(
                [{"role": "user", "content": f"The task: {self._task()}\n\nWhere should the "
                  f"change go?\n{listing}\n\nAnswer with the number only."}],
                len(regions),
            )  # fmt: skip
            regions.insert(0, regions.pop(picked - 1))
        self._emit(
            "localize",
            regions[0].describe() if regions else "no place to change was found",
            regions=[
                {"path": r.path, "first": r.first + 1, "last": r.last + 1, "name": r.name,
                 "kind": r.kind, "score": round(r.score, 2), "reasons": list(r.reasons)}
                for r in regions
            ],
        )  # fmt: skip
        return regions

    # -- candidates and validation ------------------------------------------------------------

    def _round(
        self, region: Region, tests: _Tests, attempts: tuple[Attempt, ...], seed: int = 0
    ) -> list[Judged]:
        original = (self.context.root / region.path).read_text(encoding="utf-8")
        language = language_for(None, region.path) or "python"
        siblings = class_context(original, region)
        named = named_definitions(original, region, self._task(), siblings.shown)
        codes, docstring = self._sample(
            region, original, language, tests, attempts, seed, siblings, named
        )  # fmt: skip
        judged: dict[str, Judged] = {}
        module = _module_of(region.path)
        for index, reply in enumerate(codes):
            self._checkpoint()
            may_remove = _asks_removal(self._task())
            trimmed = TrimmedReply(reply, ())
            if region.kind == "function" and language == "python":
                trimmed = trim_leading_imports(reply)
                trimmed = TrimmedReply(
                    drop_copied_members(
                        trimmed.code, region.name, siblings.shown + named.shown, language
                    ),
                    trimmed.imports,
                )  # fmt: skip
            text = trimmed.code
            try:
                candidate = splice_code(original, region, text, docstring)
            except EditRejected as exc:
                candidate, problem = original, str(exc)
            else:
                if not may_remove and not docstring:
                    candidate = self._merged(region, original, candidate, text, language)
                needed = needed_imports(trimmed.imports, text, original, module)
                candidate = add_imports(candidate, needed, region.first)
                problem = precheck(original, candidate, language, may_remove, module)
            key = normalized(candidate)
            if key in judged and not problem:
                judged[key].votes += 1
                continue
            judged[key if not problem else f"#{index}"] = self._judge(
                region, original, candidate, text, problem, tests, index, len(codes)
            )
        return list(judged.values())

    def _merged(
        self, region: Region, original: str, candidate: str, reply: str, language: str
    ) -> str:
        """The candidate, or, when it left out definitions that the region holds, the
        reply merged into the region by definition (what it left out stays)."""
        if not lost_definitions(original, candidate, language):
            return candidate
        code = reply
        if region.kind == "tail":  # the tail starts anywhere: merge into the whole file
            merged = merge_rewrite(original, textwrap.dedent(code), language)
            return merged if merged is not None else candidate
        shown = textwrap.dedent(region_text(original, region))
        merged = merge_rewrite(shown, textwrap.dedent(code), language)
        return splice_code(original, region, merged) if merged is not None else candidate

    def _sample(
        self, region: Region, original: str, language: str, tests: _Tests,
        attempts: tuple[Attempt, ...], seed: int, siblings: ShownCode, named: ShownCode,
    ) -> tuple[list[str], list[str]]:  # fmt: skip
        """One prompt, N replies (one greedy), each cut to its code; and the docstring kept
        apart, if any."""
        code = region_text(original, region)
        docstring = self._docstring(region, code, language)
        if docstring:
            a, b = docstring_lines(code) or (0, -1)
            lines = code.split("\n")
            code = "\n".join(lines[:a] + lines[b + 1 :])
        told = "\n".join(docstring)
        head = ""
        if region.kind == "function" and not _changes_signature(self._task()):
            head = definition_head(code, region.name)
        full, bare = split_candidates(self.budget.candidates, getattr(self.model, "n_params", 0))
        outline = "" if siblings.complete else class_outline(original, region)
        outline = outline or module_outline(original, region)
        context = _shown_context(region, siblings, named)
        asks = [(prompt(self._task(), region, code, language, tests.source, tests.output,
                        attempts, told, outline, context), full)]  # fmt: skip
        if bare:
            asks.append((prompt(self._task(), region, code, language, docstring=told,
                                outline=outline), bare))  # fmt: skip
        codes: list[str] = []
        cap = _reply_cap(region, code, self.budget.max_tokens)
        for index, ((messages, prefix), count) in enumerate(asks):
            temperatures = [0.0] + [self.budget.temperature] * (count - 1)
            reply = self.model.candidates(
                messages, reply_prefix=prefix + head, temperatures=temperatures,
                stop=[reply_stop(opening_fence(prefix))], max_tokens=cap,
                draft=code[len(head) :], seed=seed + 50 * index,
            )  # fmt: skip
            cut = [code_of(head + text, prefix, language) for text in reply.texts]
            codes += cut
            self._count(reply, bare=index > 0)
            if index == 0 and cut and normalized(cut[0]) == normalized(code):
                codes += self._doubted(messages, prefix, head, code, cap, language)
        return codes, docstring

    def _count(self, reply: Candidates, **data: Any) -> None:
        self.tokens += reply.prompt_tokens + reply.generated_tokens
        if self.trajectory is not None:
            self.trajectory.write("model", step=self.step, prompt_tokens=reply.prompt_tokens,
                                  completion_tokens=reply.generated_tokens,
                                  duration_ms=round(reply.duration_ms, 1),
                                  drafted=reply.drafted, accepted=reply.accepted,
                                  **data)  # fmt: skip

    def _doubted(
        self, messages: list[dict[str, str]], prefix: str, head: str, code: str, cap: int,
        language: str,
    ) -> list[str]:  # fmt: skip
        """When the greedy rewrite copied the code: rewrites that each take the model's own
        alternative at one of the code tokens it found least likely (agent.doubt_branches),
        each cut to its code."""
        if self.budget.doubts <= 0:
            return []
        forced = len(head)
        text = code[forced:]
        doubts = self.model.doubts(messages, reply_prefix=prefix + head, text=text)
        shift = code[:forced].count("\n")
        where = docstring_lines(code)
        skip = frozenset(range(where[0] - shift, where[1] - shift + 1)) if where else frozenset()
        chosen = branches(text, doubts, self.budget.doubts, skip)
        if self.trajectory is not None:
            self.trajectory.write("doubts", step=self.step, branches=[
                {"line": b.line + shift + 1, "original": b.original,
                 "alternative": b.alternative, "probability": round(b.probability, 3)}
                for b in chosen])  # fmt: skip
        replies: list[str] = []
        for branch in chosen:
            self._checkpoint()
            reply = self.model.candidates(
                messages, reply_prefix=prefix + head + branch.start, temperatures=[0.0],
                stop=[reply_stop(opening_fence(prefix))], max_tokens=cap, draft=branch.rest,
            )  # fmt: skip
            self._count(reply, doubt=branch.line + shift + 1)
            replies += [code_of(head + branch.start + t, prefix, language)
                        for t in reply.texts[:1]]  # fmt: skip
        return replies

    def _judge(
        self, region: Region, original: str, candidate: str, text: str, problem: str,
        tests: _Tests, index: int, count: int, label: str = "candidate",
    ) -> Judged:  # fmt: skip
        """Reports a distinct candidate, and runs the tests on it unless it was rejected."""
        diff = unified_diff(region.path, original, candidate)
        self._emit("candidate", f"{label} {index + 1}/{count}"
                   + (f": {problem}" if problem else ""), index=index, diff=diff,
                   problem=problem)  # fmt: skip
        verdict = Judged(
            region.path, candidate, text.strip("\n"), problem=problem,
            diff_lines=diff_size(original, candidate), targets=tests.targets,
            before=_failures_of(tests),
        )  # fmt: skip
        if problem:
            self.rejected.append(problem)
        elif tests.allowed:
            root = self.context.root
            timeout_s = self._candidate_timeout(tests)
            verdict.report = run_with(
                root, region.path, candidate, lambda: self._run(tests, timeout_s=timeout_s)
            )
            self._emit("validate", f"{label} {index + 1}: {verdict.report.summary()}",
                       index=index, green=verdict.green, fixed=verdict.fixed,
                       failing=sorted(verdict.report.failed_ids),
                       output=verdict.report.output[-1500:])  # fmt: skip
        return verdict

    def _near_misses(
        self, region: Region, tests: _Tests, judged: list[Judged], pool: list[Judged]
    ) -> list[Judged]:
        """When no candidate of the round is green, its near misses' neighbours
        (agent.near_miss): the off-by-one variants of the best candidate that changed how
        the failing tests fail and broke nothing else, the best candidate whose tests
        failed on a bare class attribute with the name read as `self.name`, and the single-
        token edits of the original at the lines the candidates and tracebacks suspect
        (agent.suspect_edits). None is judged twice in a task."""
        if any(j.green for j in judged) or not tests.allowed:
            return []
        original = (self.context.root / region.path).read_text(encoding="utf-8")
        language = language_for(None, region.path) or "python"
        module = _module_of(region.path)
        seen = {normalized(j.text) for j in (*pool, *judged)}
        pairs: list[tuple[Neighbour, str]] = []
        for neighbour, code in self._neighbours(region, original, language, judged, tests, seen):
            if normalized(neighbour.text) not in seen:  # two kinds may reach the same text
                seen.add(normalized(neighbour.text))
                pairs.append((neighbour, code))
        found: list[Judged] = []
        for index, (neighbour, code) in enumerate(pairs):
            self._checkpoint()
            problem = precheck(original, neighbour.text, language, True, module)
            found.append(self._judge(region, original, neighbour.text, code, problem, tests,
                                     index, len(pairs), "near miss"))  # fmt: skip
            if found[-1].green:
                break
        return found

    def _neighbours(
        self, region: Region, original: str, language: str, judged: list[Judged],
        tests: _Tests, seen: set[str],
    ) -> list[tuple[Neighbour, str]]:  # fmt: skip
        """The near misses' neighbours, each with its code for the repair prompt; at most
        the budget's edits of the original that are not in `seen` (normalized texts)."""
        pairs: list[tuple[Neighbour, Judged]] = []
        close = [j for j in judged if j.reached]
        if close:
            base = max(close, key=Judged.rank)
            pairs += [(n, base) for n in off_by_one(original, base.text, language)]
        for candidate in sorted(judged, key=Judged.rank, reverse=True):
            messages = [f.message for f in candidate.report.failures] if candidate.report else []
            qualified = self_qualified(original, candidate.text, messages, language)
            if qualified is not None:
                pairs.append((qualified, candidate))
                break
        coded = [(n, base.code.replace(n.before.strip(), n.after.strip(), 1)) for n, base in pairs]
        traced_rows = [
            frame.line - 1
            for failure in (tests.evidence.failures if tests.evidence else ())
            for frame in failure.frames
            if _same_file(frame.path, region.path)
        ]
        cap = self._edit_cap(tests)
        if not cap:
            return coded
        rows = suspect_rows(original, (j.text for j in judged if j.code.strip()), traced_rows,
                            region.first, region.last, self._executed(region, tests))  # fmt: skip
        # All of them, so that a later round's budget goes to edits not judged before.
        edits = single_edits(original, rows, language)
        fresh = [n for n in edits if normalized(n.text) not in seen][:cap]
        return coded + [(n, region_text(n.text, region)) for n in fresh]

    def _edit_cap(self, tests: _Tests) -> int:
        """How many single-token edits a round may judge: the budget's, or more when the
        suite is quick enough that they take about the budget's edit seconds in all."""
        if not self.budget.edits:
            return 0
        quick = int(self.budget.edit_seconds / max(tests.seconds, 0.5))
        return min(EDIT_FACTOR * self.budget.edits, max(self.budget.edits, quick))

    def _executed(self, region: Region, tests: _Tests) -> frozenset[int] | None:
        """The rows of the region's file that the failing tests run (pytest only), measured
        once a file; None when unknown."""
        if region.path in self.executed:
            return self.executed[region.path]
        rows, report = None, tests.evidence
        if report is not None and report.runner == "pytest" and report.failures:
            whole = tests.seconds <= WHOLE_SUITE_SPECTRUM_S  # as the spectrum: files or all
            files = [] if whole else [f.file for f in report.failures if f.file]
            rows = executed_rows(
                self.context.sandbox, self.context.root, tests.command, files, region.path,
                cancel=self.cancel, timeout_s=self._candidate_timeout(tests),
                confined=tests.confined,
            )  # fmt: skip
        self.executed[region.path] = rows
        return rows

    def _calls_next(self, regions: list[Region], place: int) -> bool:
        """Whether the function at `place` calls the one ranked after it."""
        if place + 1 >= len(regions) or {r.kind for r in regions[place : place + 2]} != {
            "function"
        }:
            return False
        path = self.context.root / regions[place].path
        lines = region_text(path.read_text(encoding="utf-8"), regions[place]).split("\n")
        where = docstring_lines("\n".join(lines))
        if where:  # its examples (`list(accumulate(add, [1, 2]))`) are no calls
            lines = lines[: where[0]] + lines[where[1] + 1 :]
        body = "\n".join(line for line in lines[1:] if not line.lstrip().startswith("#"))
        callee = regions[place + 1].name.rsplit(".", 1)[-1]
        return bool(re.search(rf"\b{re.escape(callee)}\s*\(", body))

    def _docstring(self, region: Region, code: str, language: str) -> list[str]:
        """The docstring's lines, when the model is to be shown the function without it: by
        the setting, or when the whole function would not fit a reply (boltons' 90-line
        `backoff_iter`, half of it docstring, came back cut off in every candidate)."""
        too_long = len(code) // CHARS_PER_TOKEN > WHOLE_REPLY_SHARE * self.budget.max_tokens
        if region.kind != "function" or language != "python":
            return []
        if self.scope != "body" and not too_long:
            return []
        where = docstring_lines(code)
        return code.split("\n")[where[0] : where[1] + 1] if where else []

    def run(self) -> PipelineOutcome:
        started = time.monotonic()
        try:
            return self._run_stages(started)
        except TaskCancelled:
            self._emit("failed", "cancelled by the user", reason="cancelled")
            return PipelineOutcome("cancelled", "cancelled by the user", False, steps=self.step)

    def _run_stages(self, started: float) -> PipelineOutcome:
        self._checkpoint()
        tests = self._reproduce()
        self._checkpoint()
        regions = self._localize(tests)
        if not regions:
            return self._finish(started, None, tests, "no place to change was found")
        verifiable = tests.allowed and tests.baseline is not None and tests.baseline.ran
        # No failing test (or none at all): with pytest, a test written from the task first.
        if tests.allowed and not tests.targets and runner_of(tests.command) == "pytest":
            self._write_test(tests, regions[0])
            verifiable = bool(tests.targets)
            if verifiable:  # the new test's failure says more about the place
                regions = self._localize(tests) or regions
        pool: list[Judged] = []
        attempts: tuple[Attempt, ...] = ()
        place = 0
        judged: list[Judged] = []
        for round_index in range(self.budget.rounds):
            self._checkpoint()
            if round_index and _try_next_place(
                pool, regions, place, self._calls_next(regions, place),
                stay=traced(regions[place:]) and any(j.reached for j in judged),
            ):  # fmt: skip
                place, attempts = place + 1, ()
                self._emit("localize", f"no candidate fixed a failing test: trying "
                           f"{regions[place].describe()}", regions=[])  # fmt: skip
            region = regions[place]
            judged = self._round(region, tests, attempts, seed=100 * round_index)
            judged += self._near_misses(region, tests, judged, pool)
            pool += judged
            chosen = best(pool)
            if chosen is not None and (chosen.green or not verifiable):
                break
            # The next round sees the best attempt so far and what was wrong with it.
            worst = chosen or next((j for j in judged if j.code.strip()), None)
            if worst is not None:
                attempts = (Attempt(worst.code, worst.feedback()),)
        tried = [r.describe() for r in regions[: place + 1]]
        return self._finish(started, best(pool), tests, "", verifiable, len(pool), tried)

    def _finish(
        self, started: float, chosen: Judged | None, tests: _Tests, why: str,
        verifiable: bool = False, count: int = 0, tried: list[str] | None = None,
    ) -> PipelineOutcome:  # fmt: skip
        seconds = time.monotonic() - started
        if chosen is None:
            summary = why or "no candidate could be tested: " + _problems(self.rejected)
            self._emit("failed", summary, reason="no_candidate")
            return PipelineOutcome("failed", summary, False, None, tests.baseline,
                                   self.step, self.tokens, seconds, count)  # fmt: skip
        if verifiable and not chosen.green and not no_worse(chosen, tests):
            return self._nothing_better(started, chosen, tests, count, tried or [])
        (self.context.root / chosen.path).write_text(chosen.text, encoding="utf-8")
        verified = verifiable and chosen.green
        if verified:
            summary = f"changed {chosen.path}; the tests pass ({chosen.report.summary()})"  # type: ignore[union-attr]
        elif not verifiable:
            summary = f"changed {chosen.path}, UNVERIFIED: no test checks this change"
        else:
            summary = f"changed {chosen.path}, but tests still fail: {chosen.feedback()[:300]}"
        self._emit("chosen", summary, path=chosen.path, verified=verified, votes=chosen.votes,
                   diff=unified_diff(chosen.path, (self.context.tree.workspace / chosen.path)
                                     .read_text(encoding="utf-8")
                                     if (self.context.tree.workspace / chosen.path).exists()
                                     else "", chosen.text))  # fmt: skip
        status = "done" if verified or not verifiable else "failed"
        self._emit(status, summary, verified=verified, reason="" if status == "done" else "red")
        return PipelineOutcome(status, summary, verified, chosen, chosen.report, self.step,
                               self.tokens, seconds, count)  # fmt: skip

    def _nothing_better(
        self, started: float, closest: Judged, tests: _Tests, count: int, tried: list[str]
    ) -> PipelineOutcome:
        """No candidate did as well as the code as it was: the task fails with no change (a
        test it wrote goes too), says what it tried, and the log keeps the closest one."""
        (self.context.root / GENERATED_TEST).unlink(missing_ok=True)
        original = (self.context.root / closest.path).read_text(encoding="utf-8")
        baseline = tests.baseline.summary() if tests.baseline else "unknown"
        closest_says = closest.report.summary() if closest.report else closest.feedback()[:200]
        self._emit("closest", f"the closest candidate, not offered: {closest_says}",
                   path=closest.path, diff=unified_diff(closest.path, original, closest.text),
                   feedback=closest.feedback()[:1500])  # fmt: skip
        summary = (
            f"no change: none of {count} candidates did as well as the code as it was "
            f"({baseline}); tried {'; '.join(tried) or 'no place'}; the closest ({closest_says}) "
            "is in the log"
        )
        self._emit("failed", summary, reason="no_better", verified=False)
        return PipelineOutcome("failed", summary, False, None, tests.baseline, self.step,
                               self.tokens, time.monotonic() - started, count)  # fmt: skip


def no_worse(candidate: Judged, tests: _Tests) -> bool:
    """Whether a candidate does at least as well as the code as it was: as many tests pass,
    and none fails that did not fail before (the task's own new test aside)."""
    baseline, report = tests.baseline, candidate.report
    if baseline is None or report is None or candidate.problem:
        return False
    failing_before = baseline.failed_ids | tests.targets
    return report.passed >= baseline.passed and report.failed_ids <= failing_before


def split_candidates(candidates: int, n_params: int) -> tuple[int, int]:
    """(from the full prompt, from the bare one) for a round of `candidates`.

    A model under a billion parameters is led astray by long context: the 0.5B, shown the
    failing output, copied it into the function's docstring, and given only the task and the
    function (the oracle row's prompt) it fixed tasks the full prompt's candidates missed. So
    half of its candidates, one greedy, see only the task and the code; a bigger model, or one
    whose size is unknown, gets every candidate from the full prompt."""
    if not 0 < n_params < SMALL_MODEL_PARAMS or candidates < 2:
        return candidates, 0
    return candidates - candidates // 2, candidates // 2


def _same_file(traced: str, path: str) -> bool:
    """Whether a traceback's path (absolute, relative, with either slash) is the project's
    relative `path`."""
    return ("/" + traced.replace("\\", "/")).endswith("/" + path)


def _module_of(path: str) -> str:
    """`pkg/mod.py` as the module name `pkg.mod`."""
    return path.rsplit(".", 1)[0].replace("/", ".")


def _shown_context(
    region: Region, siblings: ShownCode, named: ShownCode
) -> tuple[tuple[str, str], ...]:
    """The code the full prompt shows beside the region (the bare prompt shows none: it is the
    task and the code alone)."""
    captions = (
        (f"The rest of the class of `{region.name}`", siblings),
        (f"Other code from {region.path} that the task names", named),
    )
    return tuple((caption, shown.code) for caption, shown in captions if shown.code)


def _reply_cap(region: Region, code: str, most: int) -> int:
    """A rewrite's token cap: twice the region and some room (a body written from nothing
    fits), so that a sample that runs on costs little. New code (an added definition, a
    file's tail) keeps the whole budget."""
    if region.kind not in ("function", "file"):
        return most
    return min(most, max(256, 2 * len(code) // CHARS_PER_TOKEN + 128))


def _try_next_place(
    pool: list[Judged], regions: list[Region], place: int, calls_next: bool = False,
    stay: bool = False,
) -> bool:  # fmt: skip
    """After a round in which no tested candidate made a failing test pass (or none could
    be tested), the next place is tried, when the place just rewritten calls it (a thin
    wrapper, `backoff` around `backoff_iter`: the report names the wrapper, the work is in
    what it calls), or when it scored close to the first, unless the caller says to `stay`:
    the failing tests' traceback runs through this place and a candidate here changed how
    they fail, breaking nothing else. A change on the tests' path alone is no reason: any
    change there moves their failure, at the wrong place as at the right one. But where the
    tests crash (`accumulate`'s `raise NotImplementedError`, a body to write), a rewrite
    that moved the crash is the work begun; the round that went on to toolz.curried's
    `accumulate = curry(accumulate)` had no chance."""
    if place + 1 >= len(regions) or any(j.fixed for j in pool):
        return False
    if calls_next:
        return True
    return not stay and regions[place + 1].score >= 0.6 * regions[0].score


def _failures_of(tests: _Tests) -> dict[str, str]:
    """How each target test fails on the unchanged code."""
    report = tests.evidence
    failures = report.failures if report is not None else ()
    return {f.test_id: f.message for f in failures if f.test_id in tests.targets}


def _problems(rejected: list[str]) -> str:
    counts: dict[str, int] = {}
    for problem in rejected:
        counts[problem] = counts.get(problem, 0) + 1
    return "; ".join(f"{p} ({n})" for p, n in counts.items()) or "the model wrote none"


def _changes_signature(task: str) -> bool:
    """Whether the task may change a function's parameters (its reply then starts free)."""
    return bool(re.search(r"\b(param\w*|arg\w*|signature|keyword|kwargs?|rename)\b", task, re.I))


def _asks_removal(task: str) -> bool:
    return bool(re.search(r"\b(remove|delete|drop|rename|replace|merge)\b", task, re.I))


def _broken_test(report: TestReport) -> bool:
    """A generated test that fails by its own fault (its syntax, a missing fixture)."""
    return any(
        "SyntaxError" in f.text or "fixture '" in f.text or "IndentationError" in f.text
        for f in report.failures
    )
