"""Candidates from the bare prompt: the task and the code alone, for a small model, which
long context leads astray (agent.pipeline.config.PipelineConfig.prompt_shares)."""

from __future__ import annotations

from agent.pipeline.sources.prompted import PromptSource

BARE_PROMPT = PromptSource("bare_prompt", share=1, bare=True, seed_offset=50)
