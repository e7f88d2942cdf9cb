"""What the prompt sources share: the prompt from declared sections, and N replies from it,
one greedy, each cut to its code and labelled with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.pipeline.config import SourceSpec
from agent.pipeline.sources.sections import CONTEXT_SOURCES
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject
from agent.rewrite import Section, code_of, prompt
from inference.fences import opening_fence, reply_stop


def sections_of(subject: Subject, names: tuple[str, ...]) -> tuple[Section, ...]:
    return tuple(
        section
        for name in names
        if name not in subject.config.off
        for section in CONTEXT_SOURCES[name].sections(subject)
    )


def ask(
    subject: Subject, names: tuple[str, ...], attempts: bool = True
) -> tuple[list[dict[str, str]], str]:
    """(messages, the reply's forced start) for the round's subject."""
    return prompt(
        subject.task, subject.region, subject.code, subject.language,
        sections_of(subject, names), subject.attempts if attempts else (),
        "\n".join(subject.docstring),
    )  # fmt: skip


def sample(
    subject: Subject, env: SourceEnv, asked: tuple[list[dict[str, str]], str], count: int,
    source: str, seed: int, start: str = "", draft: str | None = None, **params: Any,
) -> list[Proposal]:  # fmt: skip
    """`count` replies (the first greedy) that start with the subject's head and `start`."""
    messages, prefix = asked
    head = subject.head + start
    temperatures = [0.0] + [subject.config.temperature] * (count - 1)
    reply = env.model.candidates(
        messages, reply_prefix=prefix + head, temperatures=temperatures,
        stop=[reply_stop(opening_fence(prefix))], max_tokens=subject.reply_cap,
        draft=subject.code[len(head) :] if draft is None else draft, seed=seed,
    )  # fmt: skip
    env.count(reply, source=source, **params)
    return [
        Proposal(
            source,
            {**params, "temperature": t, "seed": seed if t else None},
            code_of(head + text, prefix, subject.language),
        )
        for t, text in zip(temperatures, reply.texts, strict=False)
    ]


@dataclass(frozen=True)
class PromptSource:
    """Candidates from one prompt: its sections, and its share of a round's prompt
    candidates (PipelineConfig.prompt_shares: 0 the full prompt's, 1 the bare one's)."""

    name: str
    share: int
    bare: bool  # the task and the code alone: no failing tests, no earlier attempt
    seed_offset: int
    writes: bool = True

    def applies(self, subject: Subject, history: History) -> bool:
        return subject.config.prompt_shares(subject.n_params)[self.share] > 0

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        count = subject.config.prompt_shares(subject.n_params)[self.share]
        config = subject.config
        asked = ask(subject, config.bare_sections if self.bare else config.sections,
                    attempts=not self.bare)  # fmt: skip
        return sample(subject, env, asked, count, self.name, subject.seed + self.seed_offset)
