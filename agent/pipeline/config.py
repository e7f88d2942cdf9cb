"""Each effort level as data: which candidate sources a round runs, in which order, with what
budget; which scorers localize; which sections the full prompt shows. No effort branches in
code: the runner reads a `PipelineConfig`, and ablation is `config.without(name)`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

SMALL_MODEL_PARAMS = 1_000_000_000  # below this, half of a round's prompt candidates go bare


@dataclass(frozen=True)
class SourceSpec:
    """A candidate source in a round (agent.pipeline.sources), with its budget."""

    name: str
    count: int = 0  # candidates it may propose in a round (0: the source's own rule)
    # A quick suite gets more single-token edits, up to `factor` times `count`, while they
    # would take about this long in all (by the original code's suite time).
    seconds: float = 0.0
    factor: int = 1


@dataclass(frozen=True)
class PipelineConfig:
    rounds: int
    candidates: int  # a round's prompt candidates, shared by the prompt sources that apply
    sources: tuple[SourceSpec, ...]
    scorers: tuple[str, ...] = (
        "traceback", "image_frames", "missing_names", "spectrum", "tests_calls",
        "task_names", "bm25",
    )  # fmt: skip
    sections: tuple[str, ...] = (
        "failing_tests", "class_context", "named_definitions", "enclosing", "outline",
    )  # fmt: skip
    bare_sections: tuple[str, ...] = ("enclosing", "outline")
    max_tokens: int = 1024
    temperature: float = 0.8
    off: frozenset[str] = field(default=frozenset())  # switched off (ablation)

    def spec(self, name: str) -> SourceSpec | None:
        if name in self.off:
            return None
        return next((s for s in self.sources if s.name == name), None)

    def active(self) -> tuple[SourceSpec, ...]:
        return tuple(s for s in self.sources if s.name not in self.off)

    def uses(self, name: str) -> bool:
        """Whether a source, scorer or section is on."""
        return name not in self.off and (
            self.spec(name) is not None or name in self.scorers or name in self.sections
        )

    def without(self, *names: str) -> PipelineConfig:
        return replace(self, off=self.off | frozenset(names))

    def prompt_shares(self, n_params: int) -> tuple[int, int]:
        """(from the full prompt, from the bare one) of a round's prompt candidates.

        A model under a billion parameters is led astray by long context: the 0.5B, shown the
        failing output, copied it into the function's docstring, and given only the task and
        the function it fixed tasks the full prompt's candidates missed. So half of its
        candidates, one greedy, see only the task and the code; a bigger model, or one whose
        size is unknown, gets every candidate from the full prompt."""
        full, bare = split_candidates(self.candidates, n_params)
        if self.spec("bare_prompt") is None:
            return self.candidates, 0
        if self.spec("full_prompt") is None:
            return 0, full + bare
        return full, bare

    @property
    def max_steps(self) -> int:
        doubts = self.spec("doubt_branches")
        return 3 + self.rounds * (self.candidates + (doubts.count if doubts else 0) + 1)


def split_candidates(candidates: int, n_params: int) -> tuple[int, int]:
    if not 0 < n_params < SMALL_MODEL_PARAMS or candidates < 2:
        return candidates, 0
    return candidates - candidates // 2, candidates // 2


def _sources(candidates: int, doubts: int, edits: int) -> tuple[SourceSpec, ...]:
    # The order is the round's: model candidates first, then their near misses' neighbours
    # and the single-token edits, which only run when nothing before them is green.
    return (
        SourceSpec("full_prompt", candidates),
        SourceSpec("doubt_branches", doubts),
        SourceSpec("bare_prompt"),  # small models only: see prompt_shares
        SourceSpec("off_by_one"),
        SourceSpec("self_qualified"),
        SourceSpec("single_edits", edits, seconds=30.0, factor=3),
    )


PIPELINE_CONFIGS: dict[str, PipelineConfig] = {
    "low": PipelineConfig(rounds=1, candidates=3, sources=_sources(3, 3, 4)),
    "medium": PipelineConfig(rounds=2, candidates=6, sources=_sources(6, 6, 6)),
    "high": PipelineConfig(rounds=3, candidates=8, sources=_sources(8, 8, 8)),
}


def config_of(
    candidates: int, rounds: int, *, doubts: int = 0, edits: int = 0, edit_seconds: float = 0.0,
    max_tokens: int = 1024, temperature: float = 0.8,
) -> PipelineConfig:  # fmt: skip
    """A configuration from the old budget's numbers (tests and benchmarks)."""
    sources = tuple(
        replace(s, seconds=edit_seconds) if s.name == "single_edits" else s
        for s in _sources(candidates, doubts, edits)
    )
    return PipelineConfig(rounds, candidates, sources, max_tokens=max_tokens,
                          temperature=temperature)  # fmt: skip
