"""Candidates from the full prompt: the task, the failing tests and their output, the code
around the region, an earlier attempt and what its tests said."""

from __future__ import annotations

from agent.pipeline.sources.prompted import PromptSource

FULL_PROMPT = PromptSource("full_prompt", share=0, bare=False, seed_offset=0)
