"""The model as refactorings and the agent see it: chat messages in, text out.

`WorkerChatModel` runs on the model worker at the lowest priority and gives way to keystrokes
between tokens. `ScriptedChatModel` replays fixed replies for unit tests, where the model's
words do not matter, only what the pipeline does with them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from inference.background import generate_yielding
from inference.worker import ModelWorker, Priority


class ChatModel(Protocol):
    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
        max_tokens: int = 512,
    ) -> str:
        """The assistant's reply after `reply_prefix` (which the reply is forced to start
        with), cut at the first of `stop`."""
        ...


@dataclass(frozen=True)
class ModelReply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float


class AgentModel(Protocol):
    """What the agent loop needs: replies with their token counts, under an optional grammar."""

    @property
    def context_tokens(self) -> int: ...

    def reply(
        self, messages: list[dict[str, str]], *, grammar: str | None = None, max_tokens: int = 512
    ) -> ModelReply: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    cut = len(text)
    for marker in stop:
        found = text.find(marker)
        if found >= 0:
            cut = min(cut, found)
    return text[:cut]


class WorkerChatModel:
    def __init__(self, worker: ModelWorker, cancel: threading.Event | None = None) -> None:
        self.worker = worker
        self.cancel = cancel or threading.Event()

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
        max_tokens: int = 512,
    ) -> str:
        def job(engine: object, cancelled: threading.Event) -> str:
            if engine is None:
                raise RuntimeError("no model is loaded")
            prompt = engine.render_chat(messages) + reply_prefix  # type: ignore[attr-defined]
            generation = generate_yielding(
                self.worker, engine, cancelled, prompt, max_tokens=max_tokens,
                should_stop=lambda text: any(marker in text for marker in stop),
            )  # fmt: skip
            return cut_at_stop(generation.text, stop)

        return self.worker.submit(job, Priority.BACKGROUND, self.cancel).result()

    @property
    def context_tokens(self) -> int:
        return int(self.worker.engine.info.n_ctx)

    def reply(
        self, messages: list[dict[str, str]], *, grammar: str | None = None, max_tokens: int = 512
    ) -> ModelReply:
        """Runs at the lowest priority: a keystroke's completion pre-empts it between tokens."""

        def job(engine: Any, cancelled: threading.Event) -> ModelReply:
            if engine is None:
                raise RuntimeError("no model is loaded")
            started = time.monotonic()
            generation = generate_yielding(
                self.worker, engine, cancelled, engine.render_chat(messages),
                max_tokens=max_tokens, grammar=grammar,
            )  # fmt: skip
            elapsed_ms = (time.monotonic() - started) * 1000
            return ModelReply(
                generation.text, generation.prompt_tokens, generation.generated_tokens, elapsed_ms
            )

        return self.worker.submit(job, Priority.BACKGROUND, self.cancel).result()


@dataclass
class ScriptedChatModel:
    """A scripted model for tests: returns `replies` in order and records what it was asked."""

    replies: list[str]
    calls: list[tuple[list[dict[str, str]], str]] = field(default_factory=list)

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
        max_tokens: int = 512,
    ) -> str:
        self.calls.append((messages, reply_prefix))
        return cut_at_stop(self.replies.pop(0), stop)


@dataclass
class ScriptedAgentModel:
    """A scripted model for agent tests: replies in order, with token counts estimated from
    the text (four characters a token). Raises when the script runs out, so a test that
    expects the loop to stop sooner fails loudly."""

    replies: list[str]
    context_tokens: int = 8192
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    grammars: list[str | None] = field(default_factory=list)

    def reply(
        self, messages: list[dict[str, str]], *, grammar: str | None = None, max_tokens: int = 512
    ) -> ModelReply:
        self.prompts.append([dict(m) for m in messages])
        self.grammars.append(grammar)
        if not self.replies:
            raise AssertionError("the scripted model has no more replies")
        text = self.replies.pop(0)
        prompt = sum(len(m["content"]) for m in messages) // 4
        return ModelReply(text, prompt, len(text) // 4, 1.0)
