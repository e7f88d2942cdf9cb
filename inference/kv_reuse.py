"""Planning KV-cache reuse beyond the common prefix, for the context chunks of a prompt.

llama-cpp-python reuses only the longest common token prefix with the previous prompt. When the
ring of context chunks changes (one evicted, one added), every chunk after the change would be
evaluated again. Here the old and new token sequences are aligned (difflib), every long
matching run keeps its KV cells, moved to its new position (RoPE models re-rotate shifted keys
at the next decode), and only the new segments between runs are decoded.

A kept run's cells were computed after slightly different text. For context chunks that is
harmless (llama-server's `cache_reuse` makes the same trade), but not inside the FIM core: we
measured that reusing the suffix's cells after an edit at the cursor makes the model ignore
what was typed, because the suffix's cells still describe the old end of the prefix. So runs
are kept before `limit`, where the FIM core starts, plus the run that carries the core's
unchanged start (a chunk changed, the core moved whole); never a run after a change inside
the core. The engine applies the plan.

One more kind of run is safe: text of the FIM prefix that was in the prefix before as well
(`fence`: the marker that ends the prefix, in both prompts). When the cursor moves down past a
window step, the prefix loses lines at its top and gains them at its end, and everything in
between keeps its cells, moved up, instead of being read again (thousands of tokens: seconds
on a CPU); its cells saw a few more lines of context than the prompt now holds, the same trade
as for chunks. Cells from the old suffix are never moved into the new prefix.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    """Cached cells [old, old + length) are kept and moved to [new, new + length)."""

    old: int
    new: int
    length: int

    @property
    def delta(self) -> int:
        return self.new - self.old


@dataclass(frozen=True)
class ReusePlan:
    prefix: int  # tokens shared at the start, kept in place
    runs: tuple[Run, ...]  # later runs that move, in increasing order
    prompt_length: int

    @property
    def reused(self) -> int:
        return self.prefix + sum(run.length for run in self.runs)

    def new_segments(self) -> list[tuple[int, int]]:
        """The [start, end) ranges of the prompt that must be decoded, in order."""
        segments = []
        position = self.prefix
        for run in self.runs:
            if run.new > position:
                segments.append((position, run.new))
            position = run.new + run.length
        if position < self.prompt_length:
            segments.append((position, self.prompt_length))
        return segments


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _fence_at(tokens: Sequence[int], fence: int | None) -> int:
    if fence is None:
        return -1
    try:
        return list(tokens).index(fence)
    except ValueError:
        return -1


def plan_reuse(
    cached: Sequence[int], prompt: Sequence[int], min_run: int = 32, limit: int | None = None,
    fence: int | None = None,
) -> ReusePlan:  # fmt: skip
    """Which cached cells to keep for `prompt`, given the tokens now in the KV cache.

    Beyond the common prefix, runs are kept if they start at or before `limit` in the new
    prompt, or lie before the `fence` token in both prompts (cut there). The prompt's last
    token is never kept: its logits choose the first generated token."""
    last = len(prompt) - 1
    prefix = min(common_prefix(cached, prompt), max(last, 0))
    runs: list[Run] = []
    old_fence, new_fence = _fence_at(cached, fence), _fence_at(prompt, fence)
    if prefix < last and len(cached) - prefix >= min_run:
        matcher = difflib.SequenceMatcher(
            None, cached[prefix:], prompt[prefix:last], autojunk=False
        )
        for block in matcher.get_matching_blocks():
            old, start, size = prefix + block.a, prefix + block.b, block.size
            if limit is not None and start > limit:
                # Only text that was prefix and stays prefix, up to where the prefix ends.
                size = min(size, old_fence - old, new_fence - start) if new_fence >= 0 else 0
            if size >= min_run:
                runs.append(Run(old, start, size))
    return ReusePlan(prefix, tuple(runs), len(prompt))
