"""The in-process llama.cpp engine: load a GGUF, tokenize, and generate with cancellation.

An engine is not thread-safe; exactly one ModelWorker thread owns it. Before each generation
the KV cache is lined up with the new prompt: the common prefix stays, and long runs of cached
tokens that reappear later are shifted into place (inference.kv_reuse), so only what really
changed is evaluated. Cancellation, deadlines and stop rules are checked between tokens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference import llama_log, vision, vocab
from inference.backend import Generation, GenerationCancelled
from inference.candidates import (
    BatchDecoder,
)
from inference.engine_batches import BatchJobs
from inference.engine_core import BACKGROUND_SLICE, PROMPT_SLICE, STASH, _Stash
from inference.fim import INSTRUCT, bare_after
from inference.grammar import GrammarChooser
from inference.healing import TokenHealer
from inference.settings import ModelSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    architecture: str
    n_ctx_train: int
    n_ctx: int
    fim_tokens: dict[str, int]  # prefix/suffix/middle -> token id, when the vocab has them
    gpu_layers: int
    family: str = INSTRUCT  # the prompt format, see inference.fim
    n_batch: int = 0
    n_ubatch: int = 0
    n_threads: int = 0
    flash_attn: str = "auto"
    n_params: int = 0  # 0 when unknown

    @property
    def has_fim(self) -> bool:
        # Not from fim_tokens: llama.cpp does not know every family's markers (Codestral's).
        return self.family != INSTRUCT


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def resolve_gpu_layers(requested: int) -> int:
    if requested >= 0:
        return requested
    return -1 if gpu_offload_supported() else 0


def resolve_flash_attn(requested: str, gpu_layers: int) -> str:
    """What "auto" means here. On the CPU, llama.cpp's flash attention runs batches of fewer than
    64 queries one query at a time (its tiled kernel starts at 64), so every decoded token, the
    candidates' batches and the drafts' verifications pay for it: measured on 2 cores at ~1,600
    tokens of context, the 0.5B decodes a token in 41 ms without it against 60 ms with it, and a
    16-token batch in 169 ms against 496 ms (bench/README.md). With a GPU, llama.cpp decides."""
    if requested == "auto" and gpu_layers == 0:
        return "off"
    return requested


class LlamaEngine(BatchJobs):
    def __init__(self, path: Path, settings: ModelSettings) -> None:
        import llama_cpp

        llama_log.install()
        self.path = path
        gpu_layers = resolve_gpu_layers(settings.n_gpu_layers)
        threads = settings.n_threads or os.cpu_count() or 1
        # verbose=True makes llama-cpp-python print its metadata and chat template to
        # sys.stderr; that belongs in the debug log. (Python-level only: no descriptors move.)
        with contextlib.redirect_stderr(llama_log.LogWriter(log)):
            self._llm = self._load(llama_cpp, path, settings, threads, gpu_layers)
        flash_attn = resolve_flash_attn(settings.flash_attn, gpu_layers)
        self._rebuild_context(flash_attn)
        self._vocab = self._llm._model.vocab
        self.info = ModelInfo(
            path=path,
            architecture=vocab.architecture(self._llm),
            n_ctx_train=int(self._llm._model.n_ctx_train()),
            n_ctx=int(self._llm.n_ctx()),
            fim_tokens=vocab.fim_token_ids(self._llm),
            gpu_layers=gpu_layers,
            family=vocab.family_of(self._llm),
            n_batch=settings.n_batch,
            n_ubatch=settings.n_ubatch,
            n_threads=threads,
            flash_attn=flash_attn,
            n_params=int(self._llm._model.n_params()),
        )
        self._bare_after = bare_after(self.info.family)
        self._decoder: BatchDecoder | None = None
        # Read at load (about 0.2 s), not on the first keystroke in the line layout.
        self._healer: TokenHealer | None = TokenHealer(vocab.token_pieces(self._llm))

    @staticmethod
    def _load(
        llama_cpp: Any, path: Path, settings: ModelSettings, threads: int, gpu_layers: int
    ) -> Any:
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_ubatch=settings.n_ubatch,
            n_threads=threads,
            n_gpu_layers=gpu_layers,
            chat_handler=vision.chat_handler(settings),  # None without a projector
            # Turning verbose off would dup2 stdout/stderr to /dev/null: see inference.llama_log.
            verbose=True,
        )

    def _rebuild_context(self, flash_attn: str) -> None:
        """Recreates the context with room for the PARKED sequence (one shared KV buffer) and
        the flash-attention mode. llama-cpp-python has parameters for neither: its contexts
        hold one sequence, and its flash_attn flag cannot say "auto"."""
        import llama_cpp
        from llama_cpp import _internals

        params = self._llm.context_params
        # Sequence 0, PARKED, and the extra candidates of inference.candidates.
        params.n_seq_max = STASH + 1
        params.kv_unified = True
        params.flash_attn_type = {
            "auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
            "on": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
            "off": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
        }[flash_attn]
        old = self._llm._ctx
        self._llm._ctx = _internals.LlamaContext(
            model=self._llm._model, params=params, verbose=True
        )
        old.close()

    @property
    def sees_images(self) -> bool:
        return self._llm.chat_handler is not None

    def describe(
        self, messages: list[dict[str, Any]], max_tokens: int = vision.DESCRIBE_TOKENS
    ) -> str:
        """A reply to messages with image parts, through the projector's chat handler.

        The handler decodes an image's embeddings into cells whose token record it leaves as
        it was, so the record would name tokens that are not what those cells hold, and the
        next prompt's cache reuse would read an image as text. The cache is forgotten after
        (and after a failure, which may stop anywhere): the next prompt decodes in full."""
        if not self.sees_images:
            raise vision.VisionUnavailable("this model has no projector (model.mmproj)")
        try:
            answer = self._llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=0.0
            )
        finally:
            import llama_cpp

            llama_cpp.llama_memory_seq_rm(self._llm._ctx.memory, -1, 0, -1)
            self._llm.n_tokens = 0
        return str(answer["choices"][0]["message"]["content"] or "").strip()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def has_token(self, text: str) -> bool:
        """True if `text` is a single special token of this vocabulary."""
        return vocab.has_special_token(self._llm, text)

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt for `messages` in the model's own chat template (from the GGUF)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            text = "".join(f"### {m['role'].title()}\n{m['content']}\n\n" for m in messages)
            return text + "### Assistant\n"
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=vocab.token_text(self._llm, self._llm.token_eos()),
            bos_token=vocab.token_text(self._llm, self._llm.token_bos()),
        )
        return formatter(messages=messages).prompt  # type: ignore[arg-type]

    def is_end_of_generation(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def generate(
        self,
        prompt_text: str,
        *,
        max_tokens: int,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool] = lambda text: False,
        max_prompt_s: float | None = None,
        max_predict_s: float | None = None,
        core_marker: str | None = None,
        should_yield: Callable[[], bool] = lambda: False,
        fim: object = None,  # the prompt's parts; only HTTP backends that format it need them
        background: bool = False,
        grammar: str | None = None,
        grammar_accepted: str = "",
        heal: str = "",
        keep_cache: bool = False,
        prefix_end_marker: str | None = None,
    ) -> Generation:
        """Greedy decoding of up to `max_tokens` after `prompt_text`.

        Prompt processing gives up after `max_prompt_s`, keeping what it evaluated in the cache
        for the next call; generation returns what it has `max_predict_s` after its first
        token. `should_stop` sees the text so far. When `should_yield` turns true between
        tokens, generation stops with reason "yielded" so that a more urgent job can run.
        KV cells are reused by shifting only before `core_marker`, and within the FIM prefix
        up to `prefix_end_marker` (see inference.kv_reuse).
        With a GBNF `grammar`, only tokens the grammar allows are chosen; `grammar_accepted` is
        output already generated under it (a generation resumed after yielding). `heal` is the
        text the prompt ends with that the model may re-tokenize (inference.healing). With
        `keep_cache`, the KV cache is left as it was found (a speculative generation must not
        cost the next keystroke its cached prompt)."""
        if is_cancelled():
            raise GenerationCancelled
        tokenizing = time.monotonic()
        prompt = self._fit(vocab.prompt_tokens(self._llm, prompt_text, self._bare_after))
        healed = b""
        if heal and grammar is None:
            prompt, healed = self.healer().take_back(prompt, heal)
        max_tokens = min(max_tokens, self.info.n_ctx - len(prompt) - 1)
        started = time.monotonic()
        stash = self._lend_cache(prompt, max_tokens) if keep_cache else None
        if keep_cache and stash is None:
            # No room to keep the user's prompt beside this one: a speculation is a bonus,
            # the cached prompt of the next keystroke is not.
            return Generation("", len(prompt), 0, "cancelled", 0.0, 0.0)
        try:
            return self._generate(
                prompt, started, tokenizing, healed, stash, max_tokens=max_tokens,
                is_cancelled=is_cancelled, should_stop=should_stop, max_prompt_s=max_prompt_s,
                max_predict_s=max_predict_s, core_marker=core_marker, should_yield=should_yield,
                background=background, grammar=grammar, grammar_accepted=grammar_accepted,
                fence=None if stash else self._marker_id(prefix_end_marker),
            )  # fmt: skip
        finally:
            if stash is not None:
                self._take_back_cache(stash)

    def _generate(
        self, prompt: list[int], started: float, tokenizing: float, healed: bytes,
        stash: _Stash | None, *, max_tokens: int, is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool], max_prompt_s: float | None,
        max_predict_s: float | None, core_marker: str | None, should_yield: Callable[[], bool],
        background: bool, grammar: str | None, grammar_accepted: str, fence: int | None,
    ) -> Generation:  # fmt: skip
        # Moving kept runs would move the lent cells too (a shift moves a cell for every
        # sequence that holds it), so a borrower reuses only the common prefix.
        limit = -1 if stash is not None else self._marker_index(prompt, core_marker)
        prompt_deadline = started + max_prompt_s if max_prompt_s is not None else None
        slice_ = BACKGROUND_SLICE if background else PROMPT_SLICE
        reused, decoded, early = self._evaluate_prompt(
            prompt, is_cancelled, prompt_deadline, limit, slice_, fence
        )

        def result(text: bytes, generated: int, reason: str, first_at: float) -> Generation:
            finished = time.monotonic()
            return Generation(
                text=text.decode("utf-8", errors="ignore"),
                prompt_tokens=len(prompt),
                generated_tokens=generated,
                stop_reason=reason,
                prompt_ms=(first_at - started) * 1000,
                generate_ms=(finished - first_at) * 1000,
                reused_tokens=reused,
                evaluated_tokens=decoded,
                tokenize_ms=(started - tokenizing) * 1000,
            )

        if early is not None:
            return result(b"", 0, early, time.monotonic())
        first_at = time.monotonic()
        deadline = first_at + max_predict_s if max_predict_s is not None else float("inf")
        sampler = self._grammar_sampler(grammar, grammar_accepted) if grammar else None
        output, generated, reason = self._decode(
            max_tokens, deadline, sampler, is_cancelled, should_stop, should_yield, healed
        )
        return result(output, generated, reason, first_at)

    def _decode(
        self,
        max_tokens: int,
        deadline: float,
        sampler: Any,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool],
        should_yield: Callable[[], bool],
        healed: bytes = b"",
    ) -> tuple[bytes, int, str]:
        """Greedy (or grammar-constrained) tokens after an evaluated prompt, one at a time, with
        the checks between them: (output, tokens generated, why it stopped). The first tokens
        spell `healed` again (the prompt's last token, taken back); the output leaves it out."""
        llm = self._llm
        n_vocab = llm.n_vocab()
        output = bytearray()
        generated = 0
        while True:
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))
            if len(output) < len(healed):
                token = self.healer().choose(logits, healed[len(output) :])
            elif sampler is not None:
                token = sampler.choose(logits)
            else:
                token = int(logits.argmax())
            if self.is_end_of_generation(token):
                return bytes(output[len(healed) :]), generated, "eog"
            output += llm.detokenize([token], special=True)
            generated += 1
            visible = bytes(output[len(healed) :])
            if is_cancelled():
                return visible, generated, "cancelled"
            if len(output) > len(healed) and should_stop(visible.decode("utf-8", errors="ignore")):
                return visible, generated, "stop"
            if generated >= max_tokens:
                return visible, generated, "max_tokens"
            if time.monotonic() >= deadline:
                return visible, generated, "deadline"
            if should_yield():
                return visible, generated, "yielded"
            llm.eval([token])

    def _grammar_sampler(self, grammar: str, accepted: str) -> GrammarChooser:
        chooser = GrammarChooser(self._vocab, grammar)
        for token in self.tokenize(accepted) if accepted else []:
            chooser.accept(token)
        return chooser
