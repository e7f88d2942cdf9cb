"""The engine's KV cache and prompt evaluation, below every kind of generation: line the
cache up with a new prompt, keeping the common prefix and shifting reused runs into place
(inference.kv_reuse); lend it to a speculative generation and take it back.

`EngineCore` holds what LlamaEngine (inference.engine) sets up at load."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inference import vocab
from inference.candidates import (
    MAX_CANDIDATES,
    BatchDecoder,
)  # fmt: skip
from inference.healing import TokenHealer
from inference.kv_reuse import common_prefix, plan_reuse

log = logging.getLogger(__name__)

# Prompt tokens evaluated per llama.cpp call: cancellation and the prompt time cap are checked
# between slices, so this bounds how long a stale request can hold the model. Background work
# (speculation, pre-fill) uses smaller slices, so that a keystroke pre-empts it sooner; we
# measured no throughput difference between slices of 128 and 512 on CPU.
PROMPT_SLICE = 128
BACKGROUND_SLICE = 32
RESERVED_CELLS = 16  # slack when checking that a lent cache and its borrower both fit
# The sequence where reusable KV cells wait while the tokens before them are decoded.
PARKED = 1
# The sequence that holds the cache's cells while a speculative generation borrows the cache
# (keep_cache): the cells are shared, not copied, and handed back to sequence 0 afterwards.
STASH = 2 + MAX_CANDIDATES


def _forget_all(ctx: Any, p0: int, p1: int) -> None:
    """Drops the cells at positions [p0, p1) of every sequence but STASH (p1 < 0: to the
    end). Not through LlamaContext.kv_cache_seq_rm, which turns seq_id -1 into 0."""
    import llama_cpp

    for seq in range(STASH):
        llama_cpp.llama_memory_seq_rm(ctx.memory, seq, p0, p1)


@dataclass(frozen=True)
class _Stash:
    tokens: list[int]  # the cache's tokens when it was lent
    keep: int  # cells before this position are the borrower's too, and stay in sequence 0


class EngineCore:
    _llm: Any
    info: Any  # inference.engine.ModelInfo
    _bare_after: Any
    _healer: TokenHealer | None
    _decoder: BatchDecoder | None

    def tokenize(self, text: str) -> list[int]:
        return vocab.tokenize(self._llm, text)

    def healer(self) -> TokenHealer:
        """The vocabulary's token texts, read once (about 0.2 s for 150k tokens)."""
        if self._healer is None:
            self._healer = TokenHealer(vocab.token_pieces(self._llm))
        return self._healer

    def _fit(self, prompt: list[int]) -> list[int]:
        """A last resort for prompts longer than the context (callers budget for it): keep the
        end, where the cursor is, and always cut at the same place so that the cache stays
        reusable from one call to the next."""
        limit = self.info.n_ctx - self.info.n_ctx // 4
        return prompt[-limit:] if len(prompt) > limit else prompt

    def _marker_id(self, marker: str | None) -> int | None:
        """The token of a special marker; None if it is not one token here."""
        ids = self.tokenize(marker) if marker else []
        return ids[0] if len(ids) == 1 else None

    def _marker_index(self, prompt: list[int], marker: str | None) -> int:
        """Where `marker` (a special token) first occurs in `prompt`; 0 if it is unknown."""
        if not marker:
            return 0
        ids = self.tokenize(marker)
        if len(ids) == 1 and ids[0] in prompt:
            return prompt.index(ids[0])
        return 0

    def _park_runs(self, plan: Any) -> None:
        """Moves the kept runs of the cache to sequence PARKED, at their new positions, and
        drops every other cell after the kept prefix."""
        ctx = self._llm._ctx
        position = plan.prefix
        for run in plan.runs:
            if run.old > position:
                _forget_all(ctx, position, run.old)
            ctx.kv_cache_seq_cp(0, PARKED, run.old, run.old + run.length)
            ctx.kv_cache_seq_rm(0, run.old, run.old + run.length)
            position = run.old + run.length
        _forget_all(ctx, position, -1)
        # Runs moving up go first, from the last; then those moving down, from the first: so a
        # moved run never lands inside the range of one still waiting to move.
        for run in sorted((r for r in plan.runs if r.delta > 0), key=lambda r: -r.old):
            ctx.kv_cache_seq_shift(PARKED, run.old, run.old + run.length, run.delta)
        for run in sorted((r for r in plan.runs if r.delta < 0), key=lambda r: r.old):
            ctx.kv_cache_seq_shift(PARKED, run.old, run.old + run.length, run.delta)

    def _evaluate_prompt(
        self,
        prompt: list[int],
        is_cancelled: Callable[[], bool],
        deadline: float | None,
        reuse_limit: int | None = None,
        prompt_slice: int = PROMPT_SLICE,
        fence: int | None = None,
    ) -> tuple[int, int, str | None]:
        """Brings the KV cache in line with `prompt`, keeping what it can (inference.kv_reuse).

        llama.cpp only accepts a batch that continues its sequence, so the kept runs wait in
        sequence PARKED while the new segments before them are decoded in order; each run is
        copied back into sequence 0 when its turn comes. Returns (tokens reused, tokens
        decoded, why it stopped early or None); an early stop cuts the cache back to the part
        of the prompt that is fully valid."""
        llm = self._llm
        ctx = llm._ctx
        cached = llm.input_ids[: llm.n_tokens].tolist()
        plan = plan_reuse(cached, prompt, limit=reuse_limit, fence=fence)
        self._park_runs(plan)
        llm.input_ids[: len(prompt)] = prompt
        llm.n_tokens = len(prompt)
        runs = iter(plan.runs)
        pending = next(runs, None)
        decoded = 0
        for start, end in plan.new_segments():
            while pending is not None and pending.new < start:
                ctx.kv_cache_seq_cp(PARKED, 0, pending.new, pending.new + pending.length)
                pending = next(runs, None)
            for index in range(start, end, prompt_slice):
                reason = None
                if is_cancelled():
                    reason = "cancelled"
                elif deadline is not None and time.monotonic() > deadline:
                    reason = "prompt_timeout"
                if reason is not None:
                    # Only the tokens before this point are backed by valid cells.
                    _forget_all(ctx, index, -1)
                    ctx.kv_cache_seq_rm(PARKED, -1, -1)
                    llm.n_tokens = index
                    return min(plan.reused, index), decoded, reason
                batch = prompt[index : min(end, index + prompt_slice)]
                llm._batch.set_batch(batch=batch, n_past=index, logits_all=False)
                ctx.decode(llm._batch)
                decoded += len(batch)
        ctx.kv_cache_seq_rm(PARKED, -1, -1)
        if plan.runs:
            log.debug(
                "kv reuse: prefix %d + %d runs, %d decoded", plan.prefix, len(plan.runs), decoded
            )
        return plan.reused, decoded, None

    def _lend_cache(self, prompt: list[int], max_tokens: int) -> _Stash | None:
        """Shares the cache's cells after the part `prompt` keeps with STASH, if the context
        has room for both; None if it has not (then the cache is simply overwritten)."""
        llm = self._llm
        tokens = llm.input_ids[: llm.n_tokens].tolist()
        keep = min(common_prefix(tokens, prompt), max(len(prompt) - 1, 0))
        if len(tokens) + len(prompt) - keep + max_tokens + RESERVED_CELLS > self.info.n_ctx:
            return None
        llm._ctx.kv_cache_seq_cp(0, STASH, keep, len(tokens))
        return _Stash(tokens, keep)

    def _take_back_cache(self, stash: _Stash) -> None:
        llm = self._llm
        _forget_all(llm._ctx, stash.keep, -1)
        llm._ctx.kv_cache_seq_cp(STASH, 0, stash.keep, len(stash.tokens))
        llm._ctx.kv_cache_seq_rm(STASH, -1, -1)
        llm.input_ids[: len(stash.tokens)] = stash.tokens
        llm.n_tokens = len(stash.tokens)

    def prefill(
        self, prompt_text: str, is_cancelled: Callable[[], bool], core_marker: str | None = None,
        prefix_end_marker: str | None = None,
    ) -> int:  # fmt: skip
        """Evaluates a prompt into the KV cache without generating; returns tokens decoded."""
        prompt = self._fit(vocab.prompt_tokens(self._llm, prompt_text, self._bare_after))
        if not prompt:
            return 0
        limit = self._marker_index(prompt, core_marker)
        fence = self._marker_id(prefix_end_marker)
        _, decoded, _ = self._evaluate_prompt(
            prompt, is_cancelled, None, limit, BACKGROUND_SLICE, fence
        )
        return decoded
