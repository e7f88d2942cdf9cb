"""Long generations (agent steps, refactorings) that give way to keystrokes.

They run at the lowest priority on the model worker. Between tokens they check whether a more
urgent job is queued; if so they stop, let the worker run it, and continue where they were, with
the text so far appended to the prompt (prefix reuse keeps the cost to the part that changed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from inference.backend import Generation
from inference.worker import ModelWorker, Priority


def generate_yielding(
    worker: ModelWorker,
    engine: Any,
    cancel: threading.Event,
    prompt: str,
    *,
    max_tokens: int,
    priority: Priority = Priority.BACKGROUND,
    should_stop: Callable[[str], bool] = lambda text: False,
    grammar: str | None = None,
    **options: Any,
) -> Generation:
    """Runs on the worker thread, inside a job of `priority`. Under a `grammar`, a resumed
    generation carries on from the text so far rather than from the grammar's start."""
    text = ""
    generated = 0
    yields = 0
    while True:
        part = engine.generate(
            prompt + text,
            max_tokens=max_tokens - generated,
            is_cancelled=cancel.is_set,
            should_stop=lambda more, so_far=text: should_stop(so_far + more),
            should_yield=lambda: worker.has_waiting(priority),
            **({"grammar": grammar, "grammar_accepted": text} if grammar else {}),
            **options,
        )
        text += part.text
        generated += part.generated_tokens
        if part.stop_reason != "yielded" or generated >= max_tokens:
            return replace(part, text=text, generated_tokens=generated, yields=yields)
        yields += 1
        worker.run_waiting(priority)


def submit_background_generation(
    worker: ModelWorker, prompt: str, *, max_tokens: int, cancel: threading.Event | None = None,
    **options: Any,
) -> Future[Generation]:  # fmt: skip
    """Queues a long generation at the lowest priority; keystrokes pre-empt it between tokens."""

    def job(engine: Any, cancelled: threading.Event) -> Generation:
        return generate_yielding(
            worker, engine, cancelled, prompt, max_tokens=max_tokens, **options
        )

    return worker.submit(job, Priority.BACKGROUND, cancel)
