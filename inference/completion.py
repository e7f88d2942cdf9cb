"""The completion service: a document snapshot and a cursor in, a cleaned suggestion out.

For each request, in order:
1. the suggestion cache answers at once when the user is typing what was already suggested,
   or asks again for the same spot (no model involved);
2. otherwise a prompt is built in the model family's FIM format from windows around the cursor
   and context chunks (places the user was working, plus any ContextSource such as the index),
   trimmed to the context window in the model's own tokens, and run on the model worker at
   keystroke priority. A newer request for the same document cancels the older one.
3. after a suggestion, optionally, the suggestion that would follow it is computed in the
   background (speculative), and a prompt that hit its time cap is pre-filled in the
   background so the next keystroke finds it warm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace

from inference.backend import CompletionEngine, Generation
from inference.completion_prompt import BuiltPrompt, build_prompt, cap_suffix
from inference.completion_types import (  # the names callers import from here too
    Completion,
    CompletionRequest,
    ModelNotReady,
    PromptContext,
    SeveralSuggestions,
    _new_id,
    _Prepared,
)  # fmt: skip
from inference.context import SIMILAR, ContextRing, ContextSource, jaccard, line_set
from inference.fim import (
    INSTRUCT,
    ContextChunk,
    format_for,
    instruct_stops,
)
from inference.postprocess import clean_completion, should_stop
from inference.settings import CompletionSettings
from inference.stats import CompletionEvent, StatsRecorder
from inference.suggestion_cache import SuggestionCache
from inference.text import cursor_offset, fim_window
from inference.timing import KeystrokeTiming
from inference.worker import ModelWorker, Priority

log = logging.getLogger(__name__)

# The suggestions after the first are sampled at this temperature (top-k 40), as Copilot's
# alternatives are: different enough to be worth cycling to, close enough to be code.
SAMPLED_TEMPERATURE = 0.7
# Speculation waits this long after a suggestion: a user who is still typing makes it moot, and
# a keystroke should never have to wait for background work to notice it is cancelled.
SPECULATE_AFTER_S = 0.25


class _GivesWay:
    """A cancel flag for background work: set when cancelled, or while more urgent work waits.

    Checked only from the worker thread, between tokens and prompt slices."""

    def __init__(self, cancel: threading.Event, worker: ModelWorker) -> None:
        self._cancel = cancel
        self._worker = worker

    def is_set(self) -> bool:
        return self._cancel.is_set() or self._worker.has_waiting(Priority.PREFETCH)


def run_completion(
    engine: CompletionEngine | None,
    cancel: threading.Event | _GivesWay,
    prepared: _Prepared,
    background: bool = False,
) -> Completion:
    if engine is None:
        raise ModelNotReady(
            "no model is loaded. Fix: wait for the model to load (see `treellama.status`), "
            "or run `treellama doctor`"
        )
    job_started = time.monotonic()
    built = build_prompt(engine, prepared)
    built_at = time.monotonic()
    generation, texts = _generate(engine, cancel, prepared, built, background)
    finished = time.monotonic()
    prepared_at = prepared.prepared_at or prepared.started
    timing = KeystrokeTiming(
        total_ms=(finished - prepared.started) * 1000,
        context_ms=(prepared_at - prepared.started) * 1000,
        waited_ms=max(0.0, job_started - prepared_at) * 1000,
        fit_ms=(built_at - job_started) * 1000,
        tokenize_ms=generation.tokenize_ms,
        read_ms=generation.prompt_ms,
        read_tokens=generation.evaluated_tokens,
        decode_ms=generation.generate_ms,
        decoded_tokens=generation.generated_tokens,
    )
    return Completion(
        _new_id(), texts[0], "model", prepared.window.cursor, timing.total_ms, built.text,
        built.family, generation, tuple(built.fim.chunks), built.layout, timing, built.fim.middle,
        alternatives=tuple(texts[1:]),
    )  # fmt: skip


def _generate(
    engine: CompletionEngine, cancel: threading.Event | _GivesWay, prepared: _Prepared,
    built: BuiltPrompt, background: bool,
) -> tuple[Generation, list[str]]:  # fmt: skip
    """The model's generation for the first suggestion, and every distinct cleaned suggestion
    (one, or up to the request's count when the engine decodes several side by side)."""
    settings, fim = prepared.settings, built.fim
    fmt = None if built.family == INSTRUCT else format_for(built.family)
    stops = fmt.stop if fmt else instruct_stops(fim)
    cursor = prepared.window.cursor
    after_code = settings.one_line_after_code and bool(cursor.line_before.strip())
    max_lines = 1 if cursor.mid_line or after_code else settings.max_lines

    def stop(text: str) -> bool:
        return should_stop(text, cursor, max_lines=max_lines, stops=stops)

    heal = fim.middle if fmt else ""
    max_predict_s = settings.max_predict_ms / 1000
    count = prepared.request.count
    if count > 1 and isinstance(engine, SeveralSuggestions):
        temperatures = [0.0] + [SAMPLED_TEMPERATURE] * (count - 1)
        generations = engine.suggestions(
            built.text, temperatures, max_tokens=settings.max_tokens, is_cancelled=cancel.is_set,
            should_stop=stop, max_predict_s=max_predict_s, heal=heal,
            core_marker=fmt.core_marker if fmt else None,
            prefix_end_marker=fmt.prefix_end if fmt else None,
        )  # fmt: skip
    else:
        generations = [engine.generate(
            built.text, max_tokens=settings.max_tokens,
            max_prompt_s=settings.max_prompt_ms / 1000 if settings.max_prompt_ms else None,
            max_predict_s=max_predict_s, core_marker=fmt.core_marker if fmt else None, fim=fim,
            prefix_end_marker=fmt.prefix_end if fmt else None,
            background=background, heal=heal,
            keep_cache=background,  # speculation must leave the user's prompt cached
            is_cancelled=cancel.is_set, should_stop=stop,
        )]  # fmt: skip
    texts: list[str] = []
    for generation in generations:
        text = clean_completion(generation.text, cursor, max_lines=max_lines, stops=stops)
        if not texts or (text and text not in texts):
            texts.append(text)
    return generations[0], texts


class CompletionService:
    def __init__(
        self,
        worker: ModelWorker,
        *,
        ring: ContextRing | None = None,
        cache: SuggestionCache | None = None,
        stats: StatsRecorder | None = None,
        sources: Sequence[ContextSource] = (),
    ) -> None:
        self._worker = worker
        self.ring = ring or ContextRing()
        self.cache = cache or SuggestionCache()
        self.stats = stats
        self.sources = list(sources)
        self._lock = threading.Lock()
        # Per document: the running request, and the background job (speculation, pre-fill).
        # A new request cancels both; a new background job only replaces the older one.
        self._inflight: dict[str, threading.Event] = {}
        self._background_jobs: dict[str, threading.Event] = {}
        self.last: Completion | None = None  # what the model saw last: treellama.showLastPrompt
        self._last_request: tuple[CompletionRequest, CompletionSettings] | None = None

    def prompt_context(
        self, request: CompletionRequest, settings: CompletionSettings
    ) -> PromptContext:
        """What a completion at this place would put in the prompt, built by the same code
        (treellama.showContext), without noting the cursor in the context ring."""
        prepared = self._prepare(request, settings, note_cursor=False)
        line_before = prepared.window.prefix.rsplit("\n", 1)[-1]
        line_after = prepared.window.suffix.split("\n", 1)[0]
        return PromptContext(prepared.window_start, line_before, line_after, prepared.chunks)

    def _prepare(
        self, request: CompletionRequest, settings: CompletionSettings, note_cursor: bool = True
    ) -> _Prepared:
        started = time.monotonic()
        offset = cursor_offset(request.text, request.line, request.column)
        window = fim_window(
            request.text, offset, settings.prefix_lines, settings.suffix_lines, request.line
        )
        chunks: tuple[ContextChunk, ...] = ()
        window_start = max(0, request.line - settings.prefix_lines)
        if settings.context_tokens > 0:
            if note_cursor:
                self.ring.note_cursor(request.key, request.path, request.text, request.line)
            chunks = self.ring.chunks_for(request.key, request.line, settings.prefix_lines,
                                          settings.suffix_lines)  # fmt: skip
            seen = [line_set(chunk.text) for chunk in chunks]
            for source in self.sources:
                try:
                    offered = source.chunks_for(
                        request.key, request.path, request.text, request.line, window_start
                    )
                except Exception:  # context is a bonus: a failing source costs nothing else
                    log.exception("a context source failed")
                    continue
                for chunk in offered:
                    lines = line_set(chunk.text)
                    if all(jaccard(lines, other) <= SIMILAR for other in seen):
                        chunks += (chunk,)
                        seen.append(lines)
        return _Prepared(
            request, offset, window, chunks, settings, started, window_start, time.monotonic()
        )

    def _claim(self, key: str, background: bool = False) -> threading.Event:
        cancel = threading.Event()
        with self._lock:
            slots = (
                [self._background_jobs] if background else [self._inflight, self._background_jobs]
            )
            for slot in slots:
                previous = slot.pop(key, None)
                if previous is not None:
                    previous.set()  # a newer keystroke makes older work stale
            (self._background_jobs if background else self._inflight)[key] = cancel
        return cancel

    def _release(self, key: str, cancel: threading.Event) -> None:
        with self._lock:
            for slot in (self._inflight, self._background_jobs):
                if slot.get(key) is cancel:
                    del slot[key]

    def submit(
        self, request: CompletionRequest, settings: CompletionSettings
    ) -> tuple[Future[Completion], threading.Event]:
        """Starts a completion. Cheap enough for any thread; the model work runs on the worker."""
        prepared = self._prepare(request, settings)
        self._last_request = (request, settings)
        cancel = self._claim(request.key)
        cached = (
            self.cache.get(request.key, request.text, prepared.offset)
            if settings.cache and request.count == 1
            else None
        )
        if cached is not None:
            elapsed = (time.monotonic() - prepared.started) * 1000
            previous = self.last
            completion = Completion(
                _new_id(),
                cached,
                "cache",
                prepared.window.cursor,
                elapsed,
                prompt=previous.prompt if previous else "",
                family=previous.family if previous else "",
            )
            self._record(completion)
            done: Future[Completion] = Future()
            done.set_result(completion)
            self._release(request.key, cancel)
            return done, cancel
        future = self._worker.submit(
            lambda engine, cancelled: run_completion(engine, cancelled, prepared),
            Priority.COMPLETION,
            cancel,
        )
        future.add_done_callback(lambda f: self._finished(f, prepared, cancel))
        return future, cancel

    def _finished(
        self, future: Future[Completion], prepared: _Prepared, cancel: threading.Event
    ) -> None:
        self._release(prepared.request.key, cancel)
        if future.cancelled() or future.exception() is not None:
            return
        completion = future.result()
        generation = completion.generation
        if generation is None or generation.stop_reason == "cancelled":
            return
        self.last = completion
        if completion.timing is not None:
            log.info("completion %s (%s layout)", completion.timing.describe(), completion.layout)
        self._record(completion)
        request = prepared.request
        if generation.stop_reason == "prompt_timeout":
            self._prefill(prepared)
            return
        self.cache.put(request.key, request.text, prepared.offset, completion.text)
        if completion.text and prepared.settings.speculative:
            self._speculate(prepared, completion.text)

    def _record(self, completion: Completion) -> None:
        if self.stats is None:
            return
        generation = completion.generation
        self.stats.completion(
            CompletionEvent(
                id=completion.id,
                source=completion.source,
                latency_ms=round(completion.elapsed_ms, 2),
                prompt_tokens=generation.prompt_tokens if generation else 0,
                evaluated_tokens=generation.evaluated_tokens if generation else 0,
                generated_tokens=generation.generated_tokens if generation else 0,
                length=len(completion.text),
                empty=not completion.text,
            ),
            completion.text,
        )

    def _background(
        self, key: str, job: Callable[[CompletionEngine, _GivesWay], None], delay: float = 0.0
    ) -> None:
        """Runs `job` at prefetch priority after `delay` seconds. A new request for the
        document cancels it, waiting or running; a request for any document makes it stop
        at its next check, so that it never holds the model while a keystroke waits."""
        cancel = self._claim(key, background=True)
        gives_way = _GivesWay(cancel, self._worker)

        def start() -> None:
            if cancel.is_set():
                self._release(key, cancel)
                return
            future = self._worker.submit(
                lambda engine, _: job(engine, gives_way), Priority.PREFETCH, cancel
            )
            future.add_done_callback(lambda _: self._release(key, cancel))

        if delay <= 0:
            start()
            return
        timer = threading.Timer(delay, start)
        timer.daemon = True
        timer.start()

    def _prefill(self, prepared: _Prepared) -> None:
        def job(engine: CompletionEngine, cancelled: _GivesWay) -> None:
            built = build_prompt(engine, prepared)
            fmt = None if built.family == INSTRUCT else format_for(built.family)
            marker, end = (fmt.core_marker, fmt.prefix_end) if fmt else (None, None)
            engine.prefill(built.text, cancelled.is_set, marker, end)

        self._background(prepared.request.key, job)

    def _speculate(self, prepared: _Prepared, accepted: str) -> None:
        """Computes the suggestion that follows `accepted`, as if the user took it whole."""
        request = prepared.request
        text = request.text[: prepared.offset] + accepted + request.text[prepared.offset :]
        offset = prepared.offset + len(accepted)
        lines_before = accepted.count("\n")
        line = request.line + lines_before
        column = len(accepted.rsplit("\n", 1)[-1]) + (0 if lines_before else request.column)
        settings = prepared.settings
        window = fim_window(text, offset, settings.prefix_lines, settings.suffix_lines, line)
        ahead = replace(
            prepared,
            request=replace(request, text=text, line=line, column=column),
            offset=offset,
            window=window,
        )

        def job(engine: CompletionEngine, cancelled: _GivesWay) -> None:
            completion = run_completion(engine, cancelled, ahead, background=True)
            generation = completion.generation
            if generation is not None and generation.stop_reason not in (
                "cancelled",
                "prompt_timeout",
            ):
                self.cache.put(request.key, text, offset, completion.text)

        self._background(request.key, job, delay=SPECULATE_AFTER_S)

    def warm(self, request: CompletionRequest, settings: CompletionSettings) -> None:
        """Pre-fills the prompt at a cursor that rests, at the lowest priority, so that the
        first keystroke there finds it cached (llama.vim warms its cache on entering a buffer
        the same way). A keystroke for the document stops it; what it read stays cached."""
        self._last_request = (request, settings)
        self._prefill(self._prepare(request, settings, note_cursor=False))

    def prefill_last(self) -> bool:
        """Warms the KV cache for the last cursor position with the current context chunks,
        at the lowest priority; for when the context changed and the user is idle."""
        if self._last_request is None:
            return False
        request, settings = self._last_request
        self._prefill(self._prepare(request, settings))
        return True


__all__ = [
    "Completion", "CompletionRequest", "CompletionService", "ModelNotReady", "PromptContext",
    "cap_suffix",
]  # fmt: skip
