"""Candidates from the bare prompt: the task and the code alone, for a small model, which
long context leads astray (agent.pipeline.config.PipelineConfig.prompt_shares)."""

from __future__ import annotations

from agent.pipeline.config import SourceSpec
from agent.pipeline.sources.prompted import ask, sample
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject


class BarePrompt:
    name = "bare_prompt"
    writes = True

    def applies(self, subject: Subject, history: History) -> bool:
        return subject.config.prompt_shares(subject.n_params)[1] > 0

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        count = subject.config.prompt_shares(subject.n_params)[1]
        asked = ask(subject, subject.config.bare_sections, attempts=False)
        return sample(subject, env, asked, count, self.name, subject.seed + 50)
