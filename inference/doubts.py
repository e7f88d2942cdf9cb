"""Where the model doubts a text it is shown: the tokens it would least have written itself.

A small model asked to fix code it cannot see the bug in gives the code back unchanged: its
greedy choice is the original token at every step. That choice hides how sure it was. One
forward pass over the original, after the rewrite prompt, gives the probability of each of its
tokens, and the likeliest token the model would have written instead. The least likely
original tokens are where it doubts the code (the "naturalness of buggy code", Ray et al.
2016), and a rewrite forced to take the alternative there, then decoded greedily, is a fix the
model could not reach by copying: FIFO's `next(reversed(...))` at p = 0.36 with `iter` as the
alternative, a cache's `size >= maxsize` with `>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

DECODE_CHUNK = 64  # continuation tokens scored in one decode call: a keystroke waits no longer
ALTERNATIVES = 3  # the likeliest other tokens kept for each position


@dataclass(frozen=True)
class TokenDoubt:
    """One token of the continuation: where it starts (characters into the continuation),
    its text and probability, and the likeliest other tokens, most likely first."""

    offset: int
    text: str
    probability: float
    alternatives: tuple[tuple[str, float], ...]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    values = logits.astype(np.float64)
    top = values.max()
    return values - (top + np.log(np.exp(values - top).sum()))


def _doubt(
    logits: np.ndarray, token: int, offset: int, piece: Callable[[int], str],
    is_end: Callable[[int], bool],
) -> TokenDoubt:  # fmt: skip
    logprobs = _log_softmax(logits)
    order = np.argpartition(logprobs, -(ALTERNATIVES + 1))[-(ALTERNATIVES + 1) :]
    order = order[np.argsort(-logprobs[order])]
    alternatives = tuple(
        (piece(int(t)), float(np.exp(logprobs[t]))) for t in order
        if int(t) != token and not is_end(int(t))
    )[:ALTERNATIVES]  # fmt: skip
    return TokenDoubt(offset, piece(token), float(np.exp(logprobs[token])), alternatives)


def score_continuation(
    engine: Any, prompt: list[int], continuation: list[int], is_cancelled: Callable[[], bool],
    should_yield: Callable[[], bool] = lambda: False, on_yield: Callable[[], None] = lambda: None,
) -> list[TokenDoubt]:  # fmt: skip
    """Each continuation token's probability after the prompt and the tokens before it, from
    one pass (in chunks) on sequence 0. Between chunks, a more urgent job (a keystroke) may run;
    the cells are then rebuilt, mostly reused. The cache keeps the prompt afterwards, for the
    rewrites that follow."""
    decoder = engine.batch_decoder()
    engine._evaluate_prompt(prompt, is_cancelled, None)
    n_prompt = len(prompt)
    llm = engine._llm
    previous = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(decoder.n_vocab,)).copy()
    piece = lambda t: llm.detokenize([t], special=True).decode("utf-8", errors="ignore")  # noqa: E731
    doubts: list[TokenDoubt] = []
    offset = 0
    try:
        for start in range(0, len(continuation), DECODE_CHUNK):
            if is_cancelled():
                break
            if start and should_yield():
                on_yield()
                engine._evaluate_prompt(prompt + continuation[:start], is_cancelled, None)
            chunk = continuation[start : start + DECODE_CHUNK]
            decoder._decode([(t, n_prompt + start + i, 0) for i, t in enumerate(chunk)])
            for i, token in enumerate(chunk):
                doubts.append(_doubt(previous, token, offset, piece, engine.is_end_of_generation))
                offset += len(doubts[-1].text)
                previous = decoder._logits(i).copy()
    finally:
        llm._ctx.kv_cache_seq_rm(0, n_prompt, -1)
        llm.n_tokens = n_prompt
    return doubts
