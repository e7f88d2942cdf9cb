"""One thread owns each loaded model; work reaches it through a priority queue.

llama.cpp contexts are not thread-safe, and a keystroke's completion must never wait behind a
long generation, so every use of the engine is a job run by this one thread, lowest priority
number first. Each job carries a cancel event that it checks between tokens.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Engine = Any  # the worker does not care what it owns


class Priority(IntEnum):
    COMPLETION = 0  # a keystroke is waiting
    LOAD = 1
    PREFETCH = 2
    BACKGROUND = 3  # agent and refactoring generations


class JobCancelled(Exception):
    """The job was cancelled before it started."""


@dataclass(order=True)
class _Job(Generic[T]):
    priority: int
    sequence: int
    run: Callable[[Engine, threading.Event], T] = field(compare=False)
    cancel: threading.Event = field(compare=False)
    future: Future[T] = field(compare=False)


class ModelWorker:
    def __init__(self, name: str = "model-worker") -> None:
        self._queue: queue.PriorityQueue[_Job[Any]] = queue.PriorityQueue()
        self._sequence = itertools.count()
        self._engine: Engine = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def engine(self) -> Engine:
        return self._engine

    def submit(
        self,
        run: Callable[[Engine, threading.Event], T],
        priority: Priority,
        cancel: threading.Event | None = None,
    ) -> Future[T]:
        future: Future[T] = Future()
        job = _Job(int(priority), next(self._sequence), run, cancel or threading.Event(), future)
        self._queue.put(job)
        return future

    def has_waiting(self, better_than: Priority) -> bool:
        """True if a job more urgent than `better_than` is queued. Call from the worker thread."""
        with self._queue.mutex:
            return bool(self._queue.queue) and self._queue.queue[0].priority < better_than

    def run_waiting(self, better_than: Priority) -> None:
        """Runs the queued jobs more urgent than `better_than`, here on the worker thread.

        A long job calls this when it yields, so a keystroke never waits for it to finish."""
        while self.has_waiting(better_than):
            self._run(self._queue.get())

    def set_engine(self, engine: Engine) -> None:
        """Only call from a job, so the engine changes hands on the worker thread."""
        self._engine = engine

    def stop(self) -> None:
        self.submit(_stop, Priority.COMPLETION)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job.run is _stop:
                job.future.set_result(None)
                return
            self._run(job)

    def _run(self, job: _Job[Any]) -> None:
        if job.cancel.is_set() or not job.future.set_running_or_notify_cancel():
            if not job.future.done():
                job.future.set_exception(JobCancelled())
            return
        try:
            job.future.set_result(job.run(self._engine, job.cancel))
        except BaseException as exc:  # the worker must outlive any job
            job.future.set_exception(exc)


def _stop(engine: Engine, cancel: threading.Event) -> None:
    return None
