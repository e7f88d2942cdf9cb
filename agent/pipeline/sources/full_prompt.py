"""Candidates from the full prompt: the task, the failing tests and their output, the code
around the region, an earlier attempt and what its tests said."""

from __future__ import annotations

from agent.pipeline.config import SourceSpec
from agent.pipeline.sources.prompted import ask, sample
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject


class FullPrompt:
    name = "full_prompt"
    writes = True

    def applies(self, subject: Subject, history: History) -> bool:
        return subject.config.prompt_shares(subject.n_params)[0] > 0

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        count = subject.config.prompt_shares(subject.n_params)[0]
        asked = ask(subject, subject.config.sections)
        return sample(subject, env, asked, count, self.name, subject.seed)
