"""Several answers to one prompt, decoded together, with the original text as a draft.

The agent's pipeline and the refactorings ask for N rewrites of one region from one prompt.
Here the prompt is evaluated once into sequence 0; its KV cells are shared with the other
candidates' sequences (`seq_cp`, no copy in a unified cache), and every step decodes one
token of each live candidate in a single batch (after llama.cpp's examples/batched).

Most of a rewrite repeats the original, so the greedy candidate also speculates (prompt-lookup
decoding, as in llama.cpp's lookup examples or "predicted outputs") once it decodes alone: the
draft tokens that come next are verified in one batch, and the prefix that matches the model's
own argmax is accepted. Greedy output is therefore what plain decoding gives, up to rounding (a
batch's matrix products round differently, so a near-tie can fall the other way: 3 of 48 real
rewrites in bench.agent.decoding). A rewrite copies its original in order, so a cursor follows
the output through the draft; where the output departs (the fix itself), the cursor finds its
place again by the output's latest 4- or 3-gram, at the occurrence nearest to where it was.

When a more urgent job waits (a keystroke), the batch gives way: the worker runs it, and the
candidates' cells are rebuilt from their tokens before going on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# Sequence ids: 0 is the engine's main sequence and 1 its PARKED one (inference.engine);
# the other candidates use 2, 3, ...
FIRST_EXTRA_SEQ = 2
MAX_CANDIDATES = 8
# What a batch of k tokens costs against one token depends on the CPU (bench/README.md): on the
# machine these settings were tuned on, about k times up to k = 4 and half a token each from
# k = 16; on a later one without flash attention, 1.6x for k = 4 and 4x for k = 16. So a draft
# pays only when it is long and mostly right: it starts long, and the place is found again only
# by a longer n-gram. The settings came from replaying the real suite's rewrites on the first.
LOOKUP_NGRAM = 4  # the longest n-gram looked up in the draft
RESYNC_NGRAM = 3  # the shortest n-gram that finds the place again
LOOKUP_TOKENS = 64  # the most draft tokens verified in one step
FIRST_DRAFT = 32  # the draft length to start with; it doubles while accepted, halves when not
TOP_K = 40
Speculate = Literal["none", "greedy", "all"]  # which candidates verify the draft


@dataclass(frozen=True)
class CandidateStats:
    prompt_tokens: int
    generated_tokens: int  # over all candidates
    steps: int  # batched decode calls after the prompt
    drafted: int  # draft tokens sent for verification
    accepted: int  # draft tokens accepted
    prompt_ms: float
    generate_ms: float
    evaluated_tokens: int = 0  # prompt tokens that the KV cache did not hold


def expected_tokens(max_tokens: int, draft: Sequence[int]) -> int:
    """What a candidate is likely to need: a rewrite runs about as long as its draft, the
    original; without one, its whole budget. (Batching by the budget, twice the region, split
    `groupby`'s six rewrites into three batches of two and took 223 s for a round.)"""
    return min(max_tokens, len(draft) * 5 // 4 + 32) if draft else max_tokens


def fitting_groups(count: int, n_ctx: int, n_prompt: int, tokens_each: int) -> list[range]:
    """The candidates split into batches that each fit the context with `tokens_each` apiece
    (as far as one alone can): side by side, 6 rewrites of a 90-line function after a
    1,800-token prompt got 384 tokens each in 4,096 and all stopped mid-docstring."""
    room = max(2, n_ctx - n_prompt)
    each = max(1, min(tokens_each, room - 1))
    size = max(1, min(MAX_CANDIDATES, room // (each + 1)))
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def merged_stats(parts: list[CandidateStats]) -> CandidateStats:
    return CandidateStats(
        prompt_tokens=parts[0].prompt_tokens,
        generated_tokens=sum(p.generated_tokens for p in parts),
        steps=sum(p.steps for p in parts),
        drafted=sum(p.drafted for p in parts),
        accepted=sum(p.accepted for p in parts),
        prompt_ms=sum(p.prompt_ms for p in parts),
        generate_ms=sum(p.generate_ms for p in parts),
    )


@dataclass
class _Seq:
    seq_id: int
    temperature: float
    rng: Any
    draft: DraftCursor | None
    out: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    done: bool = False
    reason: str = "max_tokens"
    draft_length: int = FIRST_DRAFT


class DraftCursor:
    """Where a rewrite stands in its draft: the index of the draft token that the next output
    token would copy, while the output follows the draft."""

    def __init__(self, draft: Sequence[int]) -> None:
        self.draft = list(draft)
        self.position = 0
        self.following = True  # the output so far ends just before `position`
        # Each n-gram of the draft that can find the place: where the tokens after it start.
        self._ends: dict[tuple[int, ...], list[int]] = {}
        for n in range(RESYNC_NGRAM, LOOKUP_NGRAM + 1):
            for end in range(n, len(self.draft)):
                self._ends.setdefault(tuple(self.draft[end - n : end]), []).append(end)

    def advance(self, token: int) -> None:
        """The output took `token`. Off the draft, the position still moves one a token: an
        edit replaces about as much as it writes."""
        if self.position < len(self.draft) and self.draft[self.position] == token:
            self.position += 1  # a copy goes on, or rejoins after an edit of the same length
            self.following = True
            return
        self.following = False
        self.position = min(self.position + 1, len(self.draft))

    def propose(self, recent: Sequence[int], limit: int) -> list[int]:
        """The draft tokens to verify next, at most `limit`; `recent` ends with the output's
        latest tokens. [] when the output has left the draft and no n-gram finds it again."""
        if not self.following:
            end = self._find(recent)
            if end is None:
                return []
            self.position, self.following = end, True
        return self.draft[self.position : self.position + limit]

    def _find(self, recent: Sequence[int]) -> int | None:
        for n in range(min(LOOKUP_NGRAM, len(recent)), RESYNC_NGRAM - 1, -1):
            ends = self._ends.get(tuple(recent[-n:]))
            if ends:  # nearest to where the output left the draft; ahead of it on a tie
                return min(ends, key=lambda end: (abs(end - self.position), end < self.position))
        return None


def _choose(logits: np.ndarray, seq: _Seq) -> int:
    if seq.temperature <= 0:
        return int(logits.argmax())
    top = np.argpartition(logits, -TOP_K)[-TOP_K:]
    scaled = logits[top].astype(np.float64) / seq.temperature
    weights = np.exp(scaled - scaled.max())
    return int(top[seq.rng.choice(len(top), p=weights / weights.sum())])


def _drafts(speculate: Speculate, temperature: float) -> bool:
    return speculate == "all" or (speculate == "greedy" and temperature <= 0)


class BatchDecoder:
    """Decodes N candidates after one prompt on a LlamaEngine's context."""

    def __init__(self, engine: Any) -> None:
        from llama_cpp import _internals

        self.engine = engine
        self.llm = engine._llm
        self.ctx = self.llm._ctx
        self.n_vocab = self.llm.n_vocab()
        self._stop_sampled: Callable[[str], bool] | None = None
        self.batch = _internals.LlamaBatch(
            n_tokens=max(512, LOOKUP_TOKENS + MAX_CANDIDATES),
            embd=0,
            n_seq_max=FIRST_EXTRA_SEQ + MAX_CANDIDATES,
        )

    def _logits(self, index: int) -> np.ndarray:
        """A view, valid until the next decode: choosing needs no copy."""
        pointer = self.ctx.get_logits_ith(index)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))

    def _decode(self, entries: list[tuple[int, int, int]]) -> None:
        """entries: (token, position, seq_id), all with logits."""
        batch = self.batch.batch
        batch.n_tokens = len(entries)
        for i, (token, position, seq_id) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq_id
            batch.logits[i] = True
        self.ctx.decode(self.batch)

    def _accept(self, seq: _Seq, token: int, max_tokens: int, stop: Callable[[str], bool]) -> None:
        if seq.temperature > 0 and self._stop_sampled is not None:
            stop = self._stop_sampled
        if self.engine.is_end_of_generation(token):
            seq.done, seq.reason = True, "eog"
            return
        seq.out.append(token)
        if seq.draft is not None:
            seq.draft.advance(token)
        seq.text += self.llm.detokenize([token], special=True)
        if stop(seq.text.decode("utf-8", errors="ignore")):
            seq.done, seq.reason = True, "stop"
        elif len(seq.out) >= max_tokens:
            seq.done, seq.reason = True, "max_tokens"

    def _rebuild(self, prompt: list[int], seqs: list[_Seq], is_cancelled: Callable[[], bool]):
        """After another job used the context: the prompt again (mostly reused), then each
        candidate's tokens but its last (still to be decoded), in batches."""
        self.engine._evaluate_prompt(prompt, is_cancelled, None)
        n_prompt = len(prompt)
        pending: list[tuple[int, int, int]] = []
        for seq in seqs:
            if seq.seq_id != 0:
                self.ctx.kv_cache_seq_rm(seq.seq_id, -1, -1)
                self.ctx.kv_cache_seq_cp(0, seq.seq_id, 0, n_prompt)
            known = seq.out[:-1] if not seq.done else seq.out
            pending += [(t, n_prompt + i, seq.seq_id) for i, t in enumerate(known)]
        for start in range(0, len(pending), 256):
            self._decode(pending[start : start + 256])

    def _step(
        self,
        seqs: list[_Seq],
        prompt: list[int],
        max_tokens: int,
        stop: Callable[[str], bool],
    ) -> tuple[int, int]:
        """One batched decode: each live candidate's pending token, plus the greedy one's
        draft tokens to verify. Returns (drafted, accepted)."""
        n_prompt = len(prompt)
        entries: list[tuple[int, int, int]] = []
        spans: list[tuple[_Seq, int, list[int]]] = []
        # Drafts only for a candidate decoding alone: beside others, its draft tokens made the
        # whole batch slower (1.1x to 1.3x in bench.agent.decoding), since a batch of a few
        # candidates already costs less a token than one does alone.
        share = LOOKUP_TOKENS if sum(not seq.done for seq in seqs) == 1 else 0
        for seq in seqs:
            if seq.done:
                continue
            position = n_prompt + len(seq.out) - 1
            limit = min(seq.draft_length, share, max(0, max_tokens - len(seq.out)))
            recent = prompt[-LOOKUP_NGRAM:] + seq.out[-LOOKUP_NGRAM:]
            guesses = seq.draft.propose(recent, limit) if seq.draft is not None and limit else []
            spans.append((seq, len(entries), guesses))
            entries.append((seq.out[-1], position, seq.seq_id))
            entries += [(t, position + 1 + j, seq.seq_id) for j, t in enumerate(guesses)]
        self._decode(entries)
        drafted = accepted = 0
        for seq, index, guesses in spans:
            drafted += len(guesses)
            kept = 0
            for j in range(len(guesses) + 1):
                token = _choose(self._logits(index + j), seq)
                matched = j < len(guesses) and token == guesses[j]
                self._accept(seq, token, max_tokens, stop)
                if not matched or seq.done:
                    break
                kept += 1
            accepted += kept
            if guesses:
                # A verified token costs a little compute: draft long where the rewrite copies
                # the original, short where it departs from it.
                if kept == len(guesses):
                    seq.draft_length = min(LOOKUP_TOKENS, seq.draft_length * 2)
                elif kept < len(guesses) // 2:
                    seq.draft_length = max(1, seq.draft_length // 2)
            if kept < len(guesses):  # cells of draft tokens after a mismatch: a wrong future
                self.ctx.kv_cache_seq_rm(seq.seq_id, n_prompt + len(seq.out) - 1, -1)
        return drafted, accepted

    def _fork(
        self, n_prompt: int, temperatures: Sequence[float], draft: Sequence[int], seed: int,
        speculate: Speculate = "greedy",
    ) -> list[_Seq]:  # fmt: skip
        """One sequence per candidate, each sharing the prompt's KV cells (copied from
        sequence 0, not evaluated again); which of them speculate with the draft, by
        `speculate`: "greedy", "all" (a sampled token is kept while it equals the draft's, which
        leaves the distribution as it is) or "none"."""
        seqs = [
            _Seq(
                0 if i == 0 else FIRST_EXTRA_SEQ + i - 1,
                float(temperature),
                np.random.default_rng(seed + i),
                DraftCursor(draft) if draft and _drafts(speculate, temperature) else None,
            )
            for i, temperature in enumerate(temperatures)
        ]
        for seq in seqs:
            if seq.seq_id != 0:
                self.ctx.kv_cache_seq_rm(seq.seq_id, -1, -1)
                self.ctx.kv_cache_seq_cp(0, seq.seq_id, 0, n_prompt)
        return seqs

    def run(
        self,
        prompt: list[int],
        temperatures: Sequence[float],
        *,
        max_tokens: int,
        is_cancelled: Callable[[], bool],
        stop: Callable[[str], bool] = lambda text: False,
        draft: Sequence[int] = (),
        should_yield: Callable[[], bool] = lambda: False,
        on_yield: Callable[[], None] = lambda: None,
        seed: int = 0,
        speculate: Speculate = "greedy",
        stop_sampled: Callable[[str], bool] | None = None,
    ) -> tuple[list[tuple[str, str, int]], CandidateStats]:
        """[(text, stop reason, tokens)] per candidate, in the order of `temperatures`; the
        sampled ones stop by `stop_sampled` when it is given."""
        self._stop_sampled = stop_sampled
        n = min(len(temperatures), MAX_CANDIDATES)
        started = time.monotonic()
        _, evaluated, _ = self.engine._evaluate_prompt(prompt, is_cancelled, None)
        prompt_ms = (time.monotonic() - started) * 1000
        n_prompt = len(prompt)
        max_tokens = max(1, min(max_tokens, (self.engine.info.n_ctx - n_prompt) // max(1, n) - 1))
        first = np.ctypeslib.as_array(self.ctx.get_logits(), shape=(self.n_vocab,)).copy()
        seqs = self._fork(n_prompt, temperatures[:n], draft, seed, speculate)
        for seq in seqs:
            self._accept(seq, _choose(first, seq), max_tokens, stop)
        steps = drafted = accepted = 0
        try:
            while not all(seq.done for seq in seqs):
                if is_cancelled():
                    for seq in seqs:
                        if not seq.done:
                            seq.done, seq.reason = True, "cancelled"
                    break
                if should_yield():
                    on_yield()
                    self._rebuild(prompt, seqs, is_cancelled)
                step_drafted, step_accepted = self._step(seqs, prompt, max_tokens, stop)
                steps += 1
                drafted += step_drafted
                accepted += step_accepted
        finally:
            for seq in seqs:
                if seq.seq_id != 0:
                    self.ctx.kv_cache_seq_rm(seq.seq_id, -1, -1)
            self.ctx.kv_cache_seq_rm(0, n_prompt, -1)
            self.llm.n_tokens = n_prompt  # the cache holds the prompt, for the next reuse
        stats = CandidateStats(
            n_prompt, sum(len(s.out) for s in seqs), steps, drafted, accepted, prompt_ms,
            generate_ms=(time.monotonic() - started) * 1000 - prompt_ms, evaluated_tokens=evaluated,
        )  # fmt: skip
        return [
            (seq.text.decode("utf-8", errors="ignore"), seq.reason, len(seq.out)) for seq in seqs
        ], stats
