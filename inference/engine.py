"""The in-process llama.cpp engine: load a GGUF, tokenize, and generate with cancellation.

An engine is not thread-safe; exactly one ModelWorker thread owns it. Generation reuses the
KV cache for the longest common token prefix with the previous call (llama-cpp-python's
`generate` does this), and checks for cancellation, deadlines and stop rules between tokens.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference import llama_log
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

    @property
    def has_fim(self) -> bool:
        return {"prefix", "suffix", "middle"} <= self.fim_tokens.keys()


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    generated_tokens: int
    stop_reason: str  # "eog", "stop", "max_tokens", "deadline", "cancelled"
    prompt_ms: float
    generate_ms: float


class GenerationCancelled(Exception):
    """Raised when a generation was cancelled before it produced anything worth returning."""


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def resolve_gpu_layers(requested: int) -> int:
    if requested >= 0:
        return requested
    return -1 if gpu_offload_supported() else 0


class LlamaEngine:
    def __init__(self, path: Path, settings: ModelSettings) -> None:
        import llama_cpp

        llama_log.install()
        self.path = path
        gpu_layers = resolve_gpu_layers(settings.n_gpu_layers)
        self._llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_threads=settings.n_threads or os.cpu_count() or 1,
            n_gpu_layers=gpu_layers,
            # verbose=False would dup2 stdout/stderr to /dev/null; see inference.llama_log.
            verbose=True,
        )
        self._vocab = self._llm._model.vocab
        self.info = ModelInfo(
            path=path,
            architecture=str(self._llm.metadata.get("general.architecture", "unknown")),
            n_ctx_train=int(self._llm._model.n_ctx_train()),
            n_ctx=int(self._llm.n_ctx()),
            fim_tokens=self._fim_tokens(),
            gpu_layers=gpu_layers,
        )

    def _fim_tokens(self) -> dict[str, int]:
        import llama_cpp

        lookups = {
            "prefix": llama_cpp.llama_vocab_fim_pre,
            "suffix": llama_cpp.llama_vocab_fim_suf,
            "middle": llama_cpp.llama_vocab_fim_mid,
        }
        found = {}
        for role, lookup in lookups.items():
            token = int(lookup(self._vocab))
            if token >= 0:
                found[role] = token
        return found

    def tokenize(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def is_end_of_generation(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        deadline: float,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool] = lambda text: False,
    ) -> Generation:
        """Greedy decoding of up to `max_tokens` after `prompt`.

        `deadline` is a time.monotonic() value; `should_stop` sees the text so far."""
        if is_cancelled():
            raise GenerationCancelled
        n_ctx = self.info.n_ctx
        if len(prompt) + max_tokens > n_ctx:
            # Keep the end of the prompt: that is where the cursor is.
            prompt = prompt[-(n_ctx - max_tokens) :]
        started = time.monotonic()
        first_token_at: float | None = None
        output = bytearray()
        generated = 0
        reason = "max_tokens"
        for token in self._llm.generate(prompt, temp=0.0, top_k=1, repeat_penalty=1.0):
            if first_token_at is None:
                first_token_at = time.monotonic()
            if self.is_end_of_generation(token):
                reason = "eog"
                break
            output += self._llm.detokenize([token], special=True)
            generated += 1
            if is_cancelled():
                reason = "cancelled"
                break
            if should_stop(output.decode("utf-8", errors="ignore")):
                reason = "stop"
                break
            if generated >= max_tokens:
                break
            if time.monotonic() >= deadline:
                reason = "deadline"
                break
        finished = time.monotonic()
        first_token_at = first_token_at or finished
        return Generation(
            text=output.decode("utf-8", errors="ignore"),
            prompt_tokens=len(prompt),
            generated_tokens=generated,
            stop_reason=reason,
            prompt_ms=(first_token_at - started) * 1000,
            generate_ms=(finished - first_token_at) * 1000,
        )
