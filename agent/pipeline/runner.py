"""The runner: the stages in order, then rounds over the declared candidate sources.

    reproduce  Evidence: how the tests run and fail now (agent.pipeline.stages)
    localize   ranked Regions, from the config's scorers (agent.localize)
    round      a Subject (a long function: a window of it); each source in the config's order
               that applies proposes candidates, each judged in the task's copy (agent.judge)
    chosen     the best candidate stays; a repair round sees the best attempt's failure

Every candidate carries its source and parameters into the judge, the trajectory, the log and
the events. Cancel and steering take effect between stages and between candidates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from agent.editing.reply_to_file import file_from_reply
from agent.env.line_trace import executed_rows
from agent.env.test_report import Frame, runner_of
from agent.judge import Judged, best, diff_size, normalized, precheck, run_with, unified_diff
from agent.localize import Region, traced
from agent.loop.tools import ToolContext
from agent.model import CandidateModel, Candidates
from agent.pipeline.config import PipelineConfig
from agent.pipeline.outcome import PipelineOutcome, finish
from agent.pipeline.places import calls_next, needs_window, try_next_place, window
from agent.pipeline.sources import CANDIDATE_SOURCES
from agent.pipeline.sources.single_edits import traced_rows
from agent.pipeline.stages import (
    WHOLE_SUITE_SPECTRUM_S,
    candidate_timeout,
    locate,
    reproduce,
    run_tests,
    write_test,
)  # fmt: skip
from agent.pipeline.subject import Evidence, History, Proposal, Subject, asks_removal
from agent.rewrite import Attempt
from agent.task_run import Event, TaskCancelled, TaskRun
from agent.trajectory import Trajectory


@dataclass
class Pipeline(TaskRun):
    model: CandidateModel
    context: ToolContext
    instruction: str
    config: PipelineConfig
    trajectory: Trajectory | None = None
    on_event: Callable[[Event], None] = lambda event: None
    scope: str = "function"  # what a located Python function's rewrite covers (AgentSettings)
    seen: tuple[Frame, ...] = ()  # places read from the task's images, as project paths
    tokens: int = 0
    notes: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why candidates were not tested
    executed: dict[str, frozenset[int] | None] = field(default_factory=dict)  # rows, by path

    def __post_init__(self) -> None:
        self._init_run(self.trajectory, self.on_event, self.context.cancel)

    @property
    def max_steps(self) -> int:
        return self.config.max_steps

    def checkpoint(self) -> None:
        """Between stages and candidates: cancel, and steering messages join the task."""
        if self.cancel.is_set():
            raise TaskCancelled
        for message in self.steering_messages():
            self.notes.append(message)
            self.step += 1
            self._emit("steer", message)

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.step += 1
        self._emit(kind, message, **data)

    def record(self, kind: str, **data: Any) -> None:
        if self.trajectory is not None:
            self.trajectory.write(kind, step=self.step, **data)

    def count(self, reply: Candidates, **data: Any) -> None:
        self.tokens += reply.prompt_tokens + reply.generated_tokens
        self.record("model", prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.generated_tokens,
                    duration_ms=round(reply.duration_ms, 1), drafted=reply.drafted,
                    accepted=reply.accepted, **data)  # fmt: skip

    def task(self) -> str:
        return self.instruction + "".join(f"\nThe user adds: {note}" for note in self.notes)

    def executed_rows(self, subject: Subject) -> frozenset[int] | None:
        """The rows of the subject's file that the failing tests run (pytest only), measured
        once a file; None when unknown."""
        path, evidence = subject.region.path, subject.evidence
        if path not in self.executed:
            rows, report = None, evidence.report
            if report is not None and report.runner == "pytest" and report.failures:
                whole = evidence.seconds <= WHOLE_SUITE_SPECTRUM_S
                files = [] if whole else [f.file for f in report.failures if f.file]
                rows = executed_rows(
                    self.context.sandbox, self.context.root, evidence.command, files, path,
                    cancel=self.cancel, timeout_s=candidate_timeout(self.context, evidence),
                    confined=evidence.confined,
                )  # fmt: skip
            self.executed[path] = rows
        return self.executed[path]

    def run(self) -> PipelineOutcome:
        started = time.monotonic()
        try:
            return self._run_stages(started)
        except TaskCancelled:
            self.emit("failed", "cancelled by the user", reason="cancelled")
            return PipelineOutcome("cancelled", "cancelled by the user", False, steps=self.step)

    def _evidence_and_places(self) -> tuple[Evidence, list[Region], bool]:
        """The evidence, the places, and whether a candidate can be verified: the tests ran,
        and, when a test had to be written first, it fails now."""
        spectrum = self.config.uses("spectrum")
        self.checkpoint()
        evidence = reproduce(self.context, self.emit, spectrum)
        self.checkpoint()
        scorers = tuple(s for s in self.config.scorers if s not in self.config.off)
        regions = locate(self.context, self.model, self.task(), evidence, self.seen, scorers,
                         self.emit)  # fmt: skip
        # No failing test (or none at all): with pytest, a test written from the task first.
        if regions and evidence.allowed and not evidence.targets and (
            runner_of(evidence.command) == "pytest"
        ):  # fmt: skip
            evidence, tokens = write_test(self.context, self.model, self.task(), evidence,
                                          regions[0], self.emit, spectrum)  # fmt: skip
            self.tokens += tokens
            if evidence.targets:  # the new test's failure says more about the place
                regions = locate(self.context, self.model, self.task(), evidence, self.seen,
                                 scorers, self.emit) or regions  # fmt: skip
            return evidence, regions, evidence.verifiable and bool(evidence.targets)
        return evidence, regions, evidence.verifiable

    def _run_stages(self, started: float) -> PipelineOutcome:
        evidence, regions, verifiable = self._evidence_and_places()
        if not regions:
            return finish(self, started, None, evidence, "no place to change was found")
        pool: list[Judged] = []
        attempts: tuple[Attempt, ...] = ()
        place, judged = 0, list[Judged]()
        for round_index in range(self.config.rounds):
            self.checkpoint()
            if round_index and self._next_place(pool, regions, place, judged):
                place, attempts = place + 1, ()
                self.emit("localize", f"no candidate fixed a failing test: trying "
                          f"{regions[place].describe()}", regions=[])  # fmt: skip
            subject = self._subject(regions[place], evidence, attempts, 100 * round_index)
            judged = self._round(subject, tuple(pool))
            pool += judged
            chosen = best(pool)
            if chosen is not None and (chosen.green or not verifiable):
                break
            # The next round sees the best attempt so far and what was wrong with it.
            worst = chosen or next((j for j in judged if j.code.strip()), None)
            if worst is not None:
                attempts = (Attempt(worst.code, worst.feedback()),)
        tried = [r.describe() for r in regions[: place + 1]]
        return finish(self, started, best(pool), evidence, "", verifiable, len(pool), tried)

    def _next_place(
        self, pool: list[Judged], regions: list[Region], place: int, judged: list[Judged]
    ) -> bool:
        original = (self.context.root / regions[place].path).read_text(encoding="utf-8")
        return try_next_place(
            pool, regions, place, calls_next(original, regions, place),
            stay=traced(regions[place:]) and any(j.reached for j in judged),
        )  # fmt: skip

    def _subject(
        self, region: Region, evidence: Evidence, attempts: tuple[Attempt, ...], seed: int
    ) -> Subject:
        original = (self.context.root / region.path).read_text(encoding="utf-8")
        subject = Subject(region, original, self.task(), evidence, self.config, attempts, seed,
                          getattr(self.model, "n_params", 0), self.scope)  # fmt: skip
        if not needs_window(region):
            return subject
        anchors = traced_rows(subject)[::-1]  # the deepest frame first
        executed = self.executed_rows(subject) if not anchors else None
        anchors += sorted(executed or ())
        cut = window(original, region, anchors, subject.language)
        self.record("window", path=region.path, name=region.name, function=[region.first + 1,
                    region.last + 1], window=[cut.first + 1, cut.last + 1])  # fmt: skip
        return replace(subject, region=cut, outer=region) if cut.kind == "window" else subject

    def _round(self, subject: Subject, pool: tuple[Judged, ...]) -> list[Judged]:
        """Each declared source that applies, in order, proposes; each distinct proposal is
        judged (the same code again is a vote); a source that edits stops at a green one."""
        history = History(pool=pool)
        by_key: dict[str, Judged] = {}
        for spec in self.config.active():
            source = CANDIDATE_SOURCES[spec.name]
            if not source.writes and not subject.evidence.allowed:
                continue
            if not source.applies(subject, history):
                continue
            self.checkpoint()
            proposals = source.propose(subject, history, spec, self)
            history = replace(history, proposals=history.proposals + tuple(proposals))
            for index, proposal in enumerate(proposals):
                self.checkpoint()
                verdict = self._judged(subject, proposal, by_key, history, index, len(proposals))
                if verdict is None:
                    continue
                written = (*history.written, verdict) if source.writes else history.written
                history = replace(history, round=(*history.round, verdict), written=written)
                if verdict.green and not source.writes:
                    break
        return list(history.round)

    def _judged(
        self, subject: Subject, proposal: Proposal, by_key: dict[str, Judged], history: History,
        index: int, count: int,
    ) -> Judged | None:  # fmt: skip
        """The proposal judged; None when it repeats one judged before (a vote, for one the
        model wrote)."""
        original, language = subject.original, subject.language
        if proposal.text is not None:
            if normalized(proposal.text) in history.seen():
                return None
            text, code = proposal.text, proposal.code
            problem = precheck(original, text, language, True, subject.module)
        else:
            shown = (*subject.siblings.shown, *subject.named.shown)
            made = file_from_reply(original, subject.region, proposal.code, language,
                                   module=subject.module, docstring=subject.docstring,
                                   shown=shown, may_remove=asks_removal(subject.task))  # fmt: skip
            text, code, problem = made.text, made.code, made.problem
            if normalized(text) in by_key and not problem:
                by_key[normalized(text)].votes += 1
                return None
        verdict = self._judge(subject, proposal, text, code, problem, index, count)
        if proposal.text is None and not problem:
            by_key[normalized(text)] = verdict
        return verdict

    def _judge(
        self, subject: Subject, proposal: Proposal, text: str, code: str, problem: str,
        index: int, count: int,
    ) -> Judged:  # fmt: skip
        """Reports a candidate, and runs the tests on it unless it was rejected."""
        path, original, evidence = subject.region.path, subject.original, subject.evidence
        label = f"{index + 1}/{count} from {proposal.source}{_described(proposal.params)}"
        diff = unified_diff(path, original, text)
        self.emit("candidate", f"candidate {label}" + (f": {problem}" if problem else ""),
                  index=index, diff=diff, problem=problem, source=proposal.source,
                  params=dict(proposal.params))  # fmt: skip
        verdict = Judged(path, text, code.strip("\n"), problem=problem,
                         diff_lines=diff_size(original, text), targets=evidence.targets,
                         before=evidence.failures_before(), source=proposal.source,
                         params=dict(proposal.params))  # fmt: skip
        if problem:
            self.rejected.append(problem)
        elif evidence.allowed:
            timeout_s = candidate_timeout(self.context, evidence)
            verdict.report = run_with(
                self.context.root, path, text,
                lambda: run_tests(self.context, evidence, timeout_s=timeout_s),
            )  # fmt: skip
            self.emit("validate", f"candidate {label}: {verdict.report.summary()}", index=index,
                      green=verdict.green, fixed=verdict.fixed, source=proposal.source,
                      failing=sorted(verdict.report.failed_ids),
                      output=verdict.report.output[-1500:])  # fmt: skip
        return verdict


def _described(params: dict[str, Any] | Any) -> str:
    shown = [f"{k}={v}" for k, v in dict(params).items() if v is not None and k != "seed"]
    return f" ({', '.join(shown)})" if shown else ""
