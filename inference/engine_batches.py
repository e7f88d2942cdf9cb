"""The engine's batched jobs: several answers to one prompt decoded side by side (agent
candidates, asked-for suggestions), and how likely the model finds a given continuation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from inference import vocab
from inference.backend import Generation, GenerationCancelled
from inference.candidates import (
    BatchDecoder,
    CandidateStats,
    Speculate,
    expected_tokens,
    fitting_groups,
    merged_stats,
)  # fmt: skip
from inference.doubts import TokenDoubt, score_continuation
from inference.engine_core import PROMPT_SLICE, EngineCore

log = logging.getLogger(__name__)


class BatchJobs(EngineCore):
    def candidates(
        self,
        prompt_text: str,
        temperatures: list[float],
        *,
        max_tokens: int,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool] = lambda text: False,
        draft: str = "",
        should_yield: Callable[[], bool] = lambda: False,
        on_yield: Callable[[], None] = lambda: None,
        seed: int = 0,
        speculate: Speculate = "greedy",
    ) -> tuple[list[Generation], CandidateStats]:
        """One answer per temperature (0: greedy) after one prompt evaluation, decoded in one
        batch; the greedy one (or all, or none: `speculate`) speculates with `draft` (see
        inference.candidates)."""
        if is_cancelled():
            raise GenerationCancelled
        decoder = self.batch_decoder()
        prompt = self._fit(vocab.prompt_tokens(self._llm, prompt_text, self._bare_after))
        answers: list[tuple[str, str, int]] = []
        parts: list[CandidateStats] = []
        draft_tokens = self.tokenize(draft) if draft else []
        # Candidate i keeps seed + i whichever batch it lands in.
        expected = expected_tokens(max_tokens, draft_tokens)
        for group in fitting_groups(len(temperatures), self.info.n_ctx, len(prompt), expected):
            group_answers, group_stats = decoder.run(
                prompt, temperatures[group.start : group.stop], max_tokens=max_tokens,
                is_cancelled=is_cancelled, stop=should_stop, draft=draft_tokens,
                should_yield=should_yield, on_yield=on_yield, seed=seed + group.start,
                speculate=speculate,
            )  # fmt: skip
            answers += group_answers
            parts.append(group_stats)
        stats = merged_stats(parts)
        return [
            Generation(
                text=text,
                prompt_tokens=stats.prompt_tokens,
                generated_tokens=tokens,
                stop_reason=reason,
                prompt_ms=stats.prompt_ms,
                generate_ms=stats.generate_ms,
            )
            for text, reason, tokens in answers
        ], stats

    def suggestions(
        self, prompt_text: str, temperatures: list[float], *, max_tokens: int,
        is_cancelled: Callable[[], bool], should_stop: Callable[[str], bool] = lambda text: False,
        max_predict_s: float | None = None, heal: str = "", seed: int = 0,
        core_marker: str | None = None, prefix_end_marker: str | None = None,
    ) -> list[Generation]:  # fmt: skip
        """Several completions of one prompt: evaluated once, with generate's reuse rules (the
        batch decoder's own evaluation then finds it cached), its last token healed once for
        all (inference.healing), then decoded side by side in one batch (inference.candidates)."""
        if is_cancelled():
            raise GenerationCancelled
        tokenizing = time.monotonic()
        prompt = self._fit(vocab.prompt_tokens(self._llm, prompt_text, self._bare_after))
        prompt, healed = self.healer().take_back(prompt, heal) if heal else (prompt, b"")
        started = time.monotonic()
        reuse = (self._marker_index(prompt, core_marker), self._marker_id(prefix_end_marker))
        _, read, _ = self._evaluate_prompt(prompt, is_cancelled, None, reuse[0], PROMPT_SLICE,
                                           reuse[1])  # fmt: skip
        prompt, spelled = self._spell(prompt, healed) if healed else (prompt, "")
        spelled_ms = (time.monotonic() - started) * 1000
        deadline: list[float] = []
        greedy: list[int] = []  # the greedy suggestion's length, once it has ended

        def stop(text: str) -> bool:
            """The caller's rule, and the time cap from the first token, as generate's."""
            if not deadline:
                deadline.append(time.monotonic() + (max_predict_s or float("inf")))
            return should_stop(spelled + text) or time.monotonic() > deadline[0]

        def stop_greedy(text: str) -> bool:
            done = stop(text)
            if done:
                greedy.append(len(text))
            return done

        def stop_sampled(text: str) -> bool:
            # A sampled suggestion that rambles must not hold up the greedy one: once that has
            # ended, the others get at most twice its length.
            return stop(text) or (bool(greedy) and len(text) > 2 * greedy[0] + 16)

        answers, stats = self.batch_decoder().run(
            prompt, temperatures, max_tokens=max_tokens, is_cancelled=is_cancelled,
            stop=stop_greedy, seed=seed, speculate="none", stop_sampled=stop_sampled,
        )  # fmt: skip
        shared = Generation(
            "", len(prompt), 0, "", prompt_ms=spelled_ms + stats.prompt_ms,
            generate_ms=stats.generate_ms, evaluated_tokens=read + stats.evaluated_tokens,
            reused_tokens=len(prompt) - stats.evaluated_tokens,
            tokenize_ms=(started - tokenizing) * 1000,
        )  # fmt: skip
        return [
            replace(shared, text=spelled + text, generated_tokens=tokens, stop_reason=reason)
            for text, reason, tokens in answers
        ]

    def _spell(self, prompt: list[int], healed: bytes) -> tuple[list[int], str]:
        """After the evaluated `prompt`: the tokens that spell `healed` again, chosen
        greedily, appended to it, and the text they spell beyond it (the start of every
        suggestion)."""
        llm, tokens, spelled = self._llm, [], b""
        while len(spelled) < len(healed):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            token = self.healer().choose(logits, healed[len(spelled) :])
            tokens.append(token)
            spelled += self.healer().piece(token)
            llm.eval([token])
        return prompt + tokens, spelled[len(healed) :].decode("utf-8", errors="ignore")

    def batch_decoder(self) -> BatchDecoder:
        if self._decoder is None:
            self._decoder = BatchDecoder(self)
        return self._decoder

    def doubts(
        self, prompt_text: str, continuation: str, is_cancelled: Callable[[], bool],
        should_yield: Callable[[], bool] = lambda: False,
        on_yield: Callable[[], None] = lambda: None,
    ) -> list[TokenDoubt]:  # fmt: skip
        """How likely the model finds each token of `continuation` after the prompt, with
        the tokens it would rather have written (inference.doubts)."""
        if is_cancelled():
            raise GenerationCancelled
        prompt = self._fit(vocab.prompt_tokens(self._llm, prompt_text, self._bare_after))
        tokens = self.tokenize(continuation)[: max(0, self.info.n_ctx - len(prompt) - 1)]
        return score_continuation(self, prompt, tokens, is_cancelled, should_yield, on_yield)
