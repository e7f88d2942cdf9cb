"""The candidate sources, by name, in no particular order (an effort's config orders them).

A new heuristic is a module here and a line below; an effort level turns it on in
agent.pipeline.config."""

from __future__ import annotations

from agent.pipeline.sources.bare_prompt import BARE_PROMPT
from agent.pipeline.sources.doubt_branches import DoubtBranches
from agent.pipeline.sources.full_prompt import FULL_PROMPT
from agent.pipeline.sources.off_by_one import OffByOne
from agent.pipeline.sources.self_qualified import SelfQualified
from agent.pipeline.sources.single_edits import SingleEdits
from agent.pipeline.subject import CandidateSource

CANDIDATE_SOURCES: dict[str, CandidateSource] = {
    source.name: source
    for source in (
        FULL_PROMPT, BARE_PROMPT, DoubtBranches(), OffByOne(), SelfQualified(), SingleEdits(),
    )
}  # fmt: skip
