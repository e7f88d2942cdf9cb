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
from inference.doubts import TokenDoubt
from inference.worker import ModelWorker, Priority


class ChatModel(Protocol):
    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
        max_tokens: int = 512,
        draft: str = "",
    ) -> str:
        """The assistant's reply after `reply_prefix` (which the reply is forced to start
        with), cut at the first of `stop`. A rewrite passes the text it rewrites as `draft`:
        greedy decoding verifies it speculatively (the same reply, sooner)."""
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


@dataclass(frozen=True)
class Candidates:
    texts: list[str]  # one per temperature asked for, in that order
    prompt_tokens: int
    generated_tokens: int
    duration_ms: float
    drafted: int = 0  # draft tokens verified (speculative rewrites)
    accepted: int = 0


class CandidateModel(Protocol):
    """What the pipeline needs: N rewrites from one prompt, and a choice from a list."""

    def candidates(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str,
        temperatures: Sequence[float],
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        draft: str = "",
        seed: int = 0,
    ) -> Candidates: ...

    def choose(self, messages: list[dict[str, str]], count: int) -> int:
        """A number from 1 to `count`, under a grammar."""
        ...

    def doubts(
        self, messages: list[dict[str, str]], *, reply_prefix: str, text: str
    ) -> list[TokenDoubt]:
        """Each token of `text`, as the reply's continuation after `reply_prefix`: how likely
        the model finds it and what it would rather write ([] where the backend cannot say)."""
        ...


def choice_grammar(count: int) -> str:
    return "root ::= " + " | ".join(f'"{i}"' for i in range(1, count + 1))


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
        draft: str = "",
    ) -> str:
        if draft:
            return self.candidates(
                messages, reply_prefix=reply_prefix, temperatures=[0.0], stop=stop,
                max_tokens=max_tokens, draft=draft,
            ).texts[0]  # fmt: skip

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

    def candidates(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str,
        temperatures: Sequence[float],
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        draft: str = "",
        seed: int = 0,
    ) -> Candidates:
        """All candidates from one prompt evaluation, decoded in one batch where the engine
        can (in-process llama.cpp); one after the other otherwise (an HTTP backend)."""

        def job(engine: Any, cancelled: threading.Event) -> Candidates:
            if engine is None:
                raise RuntimeError("no model is loaded")
            started = time.monotonic()
            prompt = engine.render_chat(messages) + reply_prefix
            stops = lambda text: any(marker in text for marker in stop)  # noqa: E731
            if hasattr(engine, "candidates"):
                generations, stats = engine.candidates(
                    prompt, list(temperatures), max_tokens=max_tokens,
                    is_cancelled=cancelled.is_set, should_stop=stops, draft=draft,
                    should_yield=lambda: self.worker.has_waiting(Priority.BACKGROUND),
                    on_yield=lambda: self.worker.run_waiting(Priority.BACKGROUND), seed=seed,
                )  # fmt: skip
                drafted, accepted = stats.drafted, stats.accepted
            else:  # an HTTP backend: one request per candidate, sampled where asked
                generations = [
                    generate_yielding(self.worker, engine, cancelled, prompt,
                                      max_tokens=max_tokens, should_stop=stops,
                                      **_sampling(t, seed + i))
                    for i, t in enumerate(temperatures)
                ]  # fmt: skip
                drafted = accepted = 0
            return Candidates(
                [cut_at_stop(g.text, stop) for g in generations],
                generations[0].prompt_tokens,
                sum(g.generated_tokens for g in generations),
                (time.monotonic() - started) * 1000,
                drafted,
                accepted,
            )

        return self.worker.submit(job, Priority.BACKGROUND, self.cancel).result()

    def doubts(
        self, messages: list[dict[str, str]], *, reply_prefix: str, text: str
    ) -> list[TokenDoubt]:
        """One forward pass in-process (inference.doubts); [] behind an HTTP backend, whose
        servers do not all return the probabilities of given text."""

        def job(engine: Any, cancelled: threading.Event) -> list[TokenDoubt]:
            if engine is None:
                raise RuntimeError("no model is loaded")
            if not hasattr(engine, "doubts"):
                return []
            prompt = engine.render_chat(messages) + reply_prefix
            scores = engine.doubts(
                prompt, text, cancelled.is_set,
                should_yield=lambda: self.worker.has_waiting(Priority.BACKGROUND),
                on_yield=lambda: self.worker.run_waiting(Priority.BACKGROUND),
            )  # fmt: skip
            return list(scores)

        return self.worker.submit(job, Priority.BACKGROUND, self.cancel).result()

    @property
    def sees_images(self) -> bool:
        """Whether the model takes images (a projector in-process, or backend.vision)."""
        return bool(getattr(self.worker.engine, "sees_images", False))

    def describe(self, messages: list[dict[str, Any]]) -> str:
        """A reply to messages with image parts, at the lowest priority."""

        def job(engine: Any, cancelled: threading.Event) -> str:
            if engine is None:
                raise RuntimeError("no model is loaded")
            return str(engine.describe(messages))

        return self.worker.submit(job, Priority.BACKGROUND, self.cancel).result()

    @property
    def n_params(self) -> int:
        """The model's parameter count; 0 where it is not known (behind an HTTP backend)."""
        return int(getattr(self.worker.engine.info, "n_params", 0) or 0)

    @property
    def drives_tools(self) -> bool:
        """Whether this model can use a free tool loop: 7B parameters or more, or a model
        behind an HTTP backend (its size unknown here, and such servers are usually big)."""
        return self.n_params == 0 or self.n_params >= 7_000_000_000

    def choose(self, messages: list[dict[str, str]], count: int) -> int:
        reply = self.reply(messages, grammar=choice_grammar(count), max_tokens=2)
        digits = "".join(ch for ch in reply.text if ch.isdigit())
        return min(count, max(1, int(digits or 1)))

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


def _sampling(temperature: float, seed: int) -> dict[str, Any]:
    return {"temperature": temperature, "seed": seed} if temperature > 0 else {}


@dataclass
class ScriptedChatModel:
    """A scripted model for tests: returns `replies` in order and records what it was asked."""

    replies: list[str]
    calls: list[tuple[list[dict[str, str]], str]] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
        max_tokens: int = 512,
        draft: str = "",
    ) -> str:
        self.calls.append((messages, reply_prefix))
        self.drafts.append(draft)
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


@dataclass
class ScriptedCandidateModel:
    """A scripted model for pipeline tests: each `candidates` call takes as many replies from
    `replies` as temperatures were asked for (fewer when the script runs short: then the
    pipeline sees fewer candidates); each reply goes on from the forced `reply_prefix`, as a
    real model's does; `choices` answer `choose`. Records every prompt and prefix."""

    replies: list[str]
    choices: list[int] = field(default_factory=list)
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    scored: list[list[TokenDoubt]] = field(default_factory=list)  # answers to `doubts`, in order

    def candidates(
        self,
        messages: list[dict[str, str]],
        *,
        reply_prefix: str,
        temperatures: Sequence[float],
        stop: Sequence[str] = (),
        max_tokens: int = 1024,
        draft: str = "",
        seed: int = 0,
    ) -> Candidates:
        self.prompts.append([dict(m) for m in messages])
        self.prefixes.append(reply_prefix)
        taken = [self.replies.pop(0) for _ in temperatures if self.replies]
        texts = [cut_at_stop(text, stop) for text in taken]
        return Candidates(texts, sum(len(m["content"]) for m in messages) // 4, 0, 1.0)

    def choose(self, messages: list[dict[str, str]], count: int) -> int:
        self.prompts.append([dict(m) for m in messages])
        return self.choices.pop(0) if self.choices else 1

    def doubts(
        self, messages: list[dict[str, str]], *, reply_prefix: str, text: str
    ) -> list[TokenDoubt]:
        return self.scored.pop(0) if self.scored else []
