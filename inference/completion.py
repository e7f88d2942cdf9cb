"""The completion service: a document snapshot and a cursor in, a cleaned suggestion out.

It builds the FIM prompt from windows around the cursor, runs it on the model worker at
keystroke priority, and post-processes the output. A newer request with the same key (the
document) cancels the older one, which stops between tokens.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from inference.engine import Generation
from inference.fim import FimFormat, format_for
from inference.postprocess import CursorContext, clean_completion, should_stop
from inference.settings import CompletionSettings
from inference.text import cursor_offset, fim_window
from inference.worker import ModelWorker, Priority


class ModelNotReady(Exception):
    """No model is loaded; the message says why and what to do."""


@dataclass(frozen=True)
class CompletionRequest:
    key: str  # a newer request with the same key cancels this one (the document URI)
    text: str
    line: int
    character: int
    utf16: bool = True


@dataclass(frozen=True)
class Completion:
    text: str  # what to insert at the cursor; "" when there is nothing worth showing
    prompt: str
    generation: Generation
    elapsed_ms: float
    cursor: CursorContext


def fim_format_for(engine: object) -> FimFormat:
    info = getattr(engine, "info", None)
    if info is not None and not info.has_fim:
        raise ModelNotReady(
            "the loaded model has no fill-in-the-middle tokens; inline completion needs a "
            "code model such as qwen2.5-coder-0.5b (set model.name or model.path)"
        )
    return format_for("qwen")


def run_completion(
    engine: object,
    cancel: threading.Event,
    request: CompletionRequest,
    settings: CompletionSettings,
) -> Completion:
    started = time.monotonic()
    if engine is None:
        raise ModelNotReady("no model is loaded")
    fim = fim_format_for(engine)
    offset = cursor_offset(request.text, request.line, request.character, utf16=request.utf16)
    window = fim_window(request.text, offset, settings.prefix_lines, settings.suffix_lines)
    prompt = fim.build(window.prefix, window.suffix)
    max_lines = 1 if window.cursor.mid_line else settings.max_lines
    generation = engine.generate(  # type: ignore[attr-defined]
        engine.tokenize(prompt),  # type: ignore[attr-defined]
        max_tokens=settings.max_tokens,
        deadline=started + settings.max_time_ms / 1000,
        is_cancelled=cancel.is_set,
        should_stop=lambda text: should_stop(
            text, window.cursor, max_lines=max_lines, stops=fim.stop
        ),
    )
    text = clean_completion(generation.text, window.cursor, max_lines=max_lines, stops=fim.stop)
    elapsed_ms = (time.monotonic() - started) * 1000
    return Completion(text, prompt, generation, elapsed_ms, window.cursor)


class CompletionService:
    def __init__(self, worker: ModelWorker) -> None:
        self._worker = worker
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Event] = {}

    def submit(
        self, request: CompletionRequest, settings: CompletionSettings
    ) -> tuple[Future[Completion], threading.Event]:
        cancel = threading.Event()
        with self._lock:
            previous = self._inflight.get(request.key)
            if previous is not None:
                previous.set()  # a newer keystroke makes the older suggestion stale
            self._inflight[request.key] = cancel
        future = self._worker.submit(
            lambda engine, cancelled: run_completion(engine, cancelled, request, settings),
            Priority.COMPLETION,
            cancel,
        )
        future.add_done_callback(lambda _: self._forget(request.key, cancel))
        return future, cancel

    def _forget(self, key: str, cancel: threading.Event) -> None:
        with self._lock:
            if self._inflight.get(key) is cancel:
                del self._inflight[key]
