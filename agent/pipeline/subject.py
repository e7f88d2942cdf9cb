"""The frozen data the stages hand on, and the protocols of the parts a round declares.

Evidence   what reproduce found: how the tests run, which fail, how, what they ran
Subject    one round's place and everything known about it; sources propose from it
Proposal   a candidate before the judge, with the source and parameters that made it
History    what the round and the earlier rounds judged, for `applies`
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from agent.class_context import ShownCode, class_context
from agent.env.spectrum import Spectrum
from agent.env.test_report import TestReport
from agent.judge import Judged, normalized
from agent.localize import Region
from agent.model import CandidateModel, Candidates
from agent.named_context import named_definitions
from agent.pipeline.config import PipelineConfig, SourceSpec
from agent.rewrite import Attempt, Section, definition_head, docstring_lines, region_text
from indexing.languages import language_for

CHARS_PER_TOKEN = 3  # code, roughly, in these models' tokenizers (an overestimate of tokens)
WHOLE_REPLY_SHARE = 0.8  # a function longer than this share of a reply loses its docstring


@dataclass(frozen=True)
class Evidence:
    """How the project's tests run for this task and what they say now (reproduce's output;
    a test the pipeline wrote replaces `report`, `targets`, `source` and `output`)."""

    command: str
    confined: bool
    allowed: bool
    targets: frozenset[str] = frozenset()
    source: str = ""  # the failing tests' code, for the prompt
    output: str = ""  # what they print now
    baseline: TestReport | None = None  # the whole suite on the original code
    report: TestReport | None = None  # what localization reads: the baseline, or the new test
    spectrum: Spectrum | None = None  # which functions the failing tests ran (pytest only)
    seconds: float = 0.0  # how long the whole suite took

    @property
    def verifiable(self) -> bool:
        return self.allowed and self.baseline is not None and self.baseline.ran

    def failures_before(self) -> dict[str, str]:
        """How each target test fails on the unchanged code."""
        failures = self.report.failures if self.report is not None else ()
        return {f.test_id: f.message for f in failures if f.test_id in self.targets}


@dataclass(frozen=True)
class Subject:
    """One round's place, its file, the task and the evidence: what every source reads."""

    region: Region
    original: str  # the region's whole file, unchanged
    task: str  # the instruction with the user's steering notes
    evidence: Evidence
    config: PipelineConfig
    attempts: tuple[Attempt, ...] = ()
    seed: int = 0
    n_params: int = 0
    scope: str = "function"  # what a Python function's rewrite covers (AgentSettings)
    outer: Region | None = None  # the function a window is cut from

    @property
    def place(self) -> Region:
        """The definition the round works on (a window's function, else the region)."""
        return self.outer or self.region

    @property
    def language(self) -> str:
        return language_for(None, self.region.path) or "python"

    @property
    def module(self) -> str:
        return self.region.path.rsplit(".", 1)[0].replace("/", ".")

    @cached_property
    def siblings(self) -> ShownCode:
        return class_context(self.original, self.place)

    @cached_property
    def named(self) -> ShownCode:
        return named_definitions(self.original, self.place, self.task, self.siblings.shown)

    @cached_property
    def docstring(self) -> tuple[str, ...]:
        """The docstring's lines, when the model is to be shown the function without it: by
        the setting, or when the whole function would not fit a reply (boltons' 90-line
        `backoff_iter`, half of it docstring, came back cut off in every candidate)."""
        code = region_text(self.original, self.region)
        if self.region.kind != "function" or self.language != "python":
            return ()
        too_long = len(code) // CHARS_PER_TOKEN > WHOLE_REPLY_SHARE * self.config.max_tokens
        if self.scope != "body" and not too_long:
            return ()
        where = docstring_lines(code)
        return tuple(code.split("\n")[where[0] : where[1] + 1]) if where else ()

    @cached_property
    def code(self) -> str:
        """The region's code as the model sees it (without a docstring shown apart)."""
        code = region_text(self.original, self.region)
        if self.docstring:
            a, b = docstring_lines(code) or (0, -1)
            lines = code.split("\n")
            code = "\n".join(lines[:a] + lines[b + 1 :])
        return code

    @cached_property
    def head(self) -> str:
        """The reply's forced start: a function's decorators and `def` line, unless the task
        may change its parameters."""
        if self.region.kind != "function" or changes_signature(self.task):
            return ""
        return definition_head(self.code, self.region.name)

    @property
    def reply_cap(self) -> int:
        """A rewrite's token cap: twice the region and some room (a body written from nothing
        fits), so that a sample that runs on costs little. New code (an added definition, a
        file's tail) keeps the whole budget."""
        most = self.config.max_tokens
        if self.region.kind not in ("function", "file", "window"):
            return most
        return min(most, max(256, 2 * len(self.code) // CHARS_PER_TOKEN + 128))


@dataclass(frozen=True)
class Proposal:
    """A candidate before the judge, and where it came from."""

    source: str
    params: Mapping[str, Any]
    code: str  # the candidate's code: the reply, or the changed region (repair prompts)
    text: str | None = None  # the whole file, when the source wrote it (else it is spliced)


@dataclass(frozen=True)
class History:
    round: tuple[Judged, ...] = ()  # judged in this round so far
    written: tuple[Judged, ...] = ()  # those of them that the model wrote
    pool: tuple[Judged, ...] = ()  # judged in earlier rounds
    proposals: tuple[Proposal, ...] = ()  # this round's, judged or not (duplicates too)

    @property
    def green(self) -> bool:
        return any(j.green for j in self.round)

    def seen(self) -> set[str]:
        return {normalized(j.text) for j in (*self.pool, *self.round)}


class SourceEnv(Protocol):
    """What the runner lends a source: the model, cancel and steering, the log."""

    @property
    def model(self) -> CandidateModel: ...

    def checkpoint(self) -> None: ...

    def count(self, reply: Candidates, **data: Any) -> None: ...

    def record(self, kind: str, **data: Any) -> None: ...

    def executed_rows(self, subject: Subject) -> frozenset[int] | None: ...


class CandidateSource(Protocol):
    """One way of making candidates: a module in agent.pipeline.sources, a line in
    agent.pipeline.sources.CANDIDATE_SOURCES, a `SourceSpec` in an effort's config.

    A source that `writes` asks the model; all its candidates are judged (agreeing ones are
    votes). One that does not edits what is there, where the tests may run, and its
    candidates are judged until one is green."""

    @property
    def name(self) -> str: ...

    @property
    def writes(self) -> bool: ...

    def applies(self, subject: Subject, history: History) -> bool: ...

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]: ...


class ContextSource(Protocol):
    """A section of the full prompt (the failing tests, the class, named definitions...)."""

    name: str

    def sections(self, subject: Subject) -> tuple[Section, ...]: ...


def changes_signature(task: str) -> bool:
    """Whether the task may change a function's parameters (its reply then starts free)."""
    return bool(re.search(r"\b(param\w*|arg\w*|signature|keyword|kwargs?|rename)\b", task, re.I))


def asks_removal(task: str) -> bool:
    return bool(re.search(r"\b(remove|delete|drop|rename|replace|merge)\b", task, re.I))
