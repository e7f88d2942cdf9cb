"""One generation for the model API, on the shared model worker below keystrokes (the agent's
priority), streamed as text deltas to the event loop.

A delta never includes a stop string, nor the start of one that may still complete: the
last few characters wait until the text either goes past them or ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.model import cut_at_stop
from inference.background import generate_yielding
from inference.worker import ModelWorker, Priority
from lsp_server.services import ModelUnavailable


@dataclass(frozen=True)
class Ask:
    prompt: str
    max_tokens: int
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    seed: int = 0
    grammar: str | None = None


@dataclass
class Outcome:
    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # OpenAI's: "stop" or "length"


@dataclass
class _Stream:
    stop: Sequence[str]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]
    sent: int = 0
    hold: int = field(init=False)

    def __post_init__(self) -> None:
        self.hold = max((len(s) for s in self.stop), default=1) - 1

    def push(self, text: str, final: bool = False) -> None:
        visible = cut_at_stop(text, self.stop)
        ready = len(visible) if final or len(visible) < len(text) else len(visible) - self.hold
        if ready > self.sent:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, visible[self.sent : ready])
            self.sent = ready


def _job(ask: Ask, worker: ModelWorker, stream: _Stream | None) -> Any:
    def run(engine: Any, cancelled: threading.Event) -> Outcome:
        if engine is None:
            raise ModelUnavailable("no model is loaded")

        def should_stop(text: str) -> bool:
            if stream is not None:
                stream.push(text)
            return any(marker in text for marker in ask.stop)

        if ask.temperature > 0 and hasattr(engine, "candidates") and not ask.grammar:
            generations, _ = engine.candidates(
                ask.prompt,
                [ask.temperature],
                max_tokens=ask.max_tokens,
                is_cancelled=cancelled.is_set,
                should_stop=should_stop,
                seed=ask.seed,
            )
            generation = generations[0]
        else:
            sampling: dict[str, Any] = (
                {"temperature": ask.temperature, "seed": ask.seed}
                if (ask.temperature > 0 and not hasattr(engine, "candidates"))
                else {}
            )
            generation = generate_yielding(
                worker,
                engine,
                cancelled,
                ask.prompt,
                max_tokens=ask.max_tokens,
                should_stop=should_stop,
                grammar=ask.grammar,
                **sampling,
            )
        text = cut_at_stop(generation.text, ask.stop)
        if stream is not None:
            stream.push(text, final=True)
        reason = "length" if generation.stop_reason == "max_tokens" else "stop"
        return Outcome(text, generation.prompt_tokens, generation.generated_tokens, reason)

    return run


async def generate(worker: ModelWorker, ask: Ask) -> Outcome:
    cancel = threading.Event()
    future = worker.submit(_job(ask, worker, None), Priority.BACKGROUND, cancel)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        cancel.set()
        raise


async def stream(worker: ModelWorker, ask: Ask, outcome: Outcome) -> AsyncIterator[str]:
    """Text deltas as they come; `outcome` is filled in once the generation ends. A client
    that goes away cancels the generation at the next token."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    cancel = threading.Event()
    future = worker.submit(
        _job(ask, worker, _Stream(ask.stop, loop, queue)), Priority.BACKGROUND, cancel
    )
    future.add_done_callback(lambda f: loop.call_soon_threadsafe(queue.put_nowait, None))
    try:
        while (delta := await queue.get()) is not None:
            yield delta
        done = future.result()
        outcome.text, outcome.finish_reason = done.text, done.finish_reason
        outcome.prompt_tokens, outcome.completion_tokens = (
            done.prompt_tokens,
            done.completion_tokens,
        )
    finally:
        cancel.set()  # a no-op when it finished; stops it when the client left
