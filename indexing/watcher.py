"""Follows changes on disk with watchdog, debounced: a burst of events (a git checkout, a
formatter over the tree) becomes one batch of paths for the indexer thread."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.3


class _Collector(FileSystemEventHandler):
    def __init__(self, flush: Callable[[set[str]], None], delay: float) -> None:
        self._flush = flush
        self._delay = delay
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = {os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
        with self._lock:
            self._pending.update(paths)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, set()
            self._timer = None
        if batch:
            self._flush(batch)

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class DiskWatcher:
    """Calls `on_changes(paths)` with absolute paths, at most once per quiet period."""

    def __init__(
        self, root: str, on_changes: Callable[[set[str]], None], delay: float = DEBOUNCE_S
    ) -> None:
        self._collector = _Collector(on_changes, delay)
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(self._collector, root, recursive=True)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._collector.stop()
        self._observer.stop()
        with contextlib.suppress(RuntimeError):
            self._observer.join(timeout=2)
