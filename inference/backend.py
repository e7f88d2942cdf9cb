"""The interface every model engine offers the completion service (and, later, the agent):
the in-process LlamaEngine and the HttpEngine both implement it, and tests use scripted ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    generated_tokens: int
    stop_reason: str  # "eog", "stop", "max_tokens", "deadline", "cancelled"
    prompt_ms: float
    generate_ms: float
    reused_tokens: int = 0  # prompt tokens whose KV cells were kept from the previous call
    evaluated_tokens: int = 0  # prompt tokens that had to be evaluated
    yields: int = 0  # times a background generation gave way to a more urgent job
    tokenize_ms: float = 0.0  # turning the prompt text into tokens (in-process engines)


class GenerationCancelled(Exception):
    """Raised when a generation was cancelled before it produced anything worth returning."""


class EngineInfo(Protocol):
    @property
    def family(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    @property
    def n_params(self) -> int: ...


class CompletionEngine(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    def count_tokens(self, text: str) -> int: ...

    def render_chat(self, messages: list[dict[str, str]]) -> str: ...

    def prefill(
        self, prompt_text: str, is_cancelled: Callable[[], bool], core_marker: str | None = None,
        prefix_end_marker: str | None = None,
    ) -> int: ...  # fmt: skip

    def generate(
        self,
        prompt_text: str,
        *,
        max_tokens: int,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool] = ...,
        max_prompt_s: float | None = None,
        max_predict_s: float | None = None,
        core_marker: str | None = None,
        should_yield: Callable[[], bool] = ...,
        fim: Any = None,
        background: bool = False,
        grammar: str | None = None,
        grammar_accepted: str = "",
        heal: str = "",
        keep_cache: bool = False,
        prefix_end_marker: str | None = None,
    ) -> Generation: ...
