"""The code index as the server runs it: open, scan in the background, follow the disk and the
editor's buffers, and answer navigation and retrieval. The plain Python API for the agent.

Everything that writes runs on the index's own thread; nothing here blocks the caller, except
the queries, which are SQLite reads and run wherever the caller runs them (off the event loop).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import unquote, urlparse

from indexing.navigation import Navigator, ReadText, read_disk
from indexing.retrieval import Retrieved, Retriever
from indexing.settings import IndexSettings
from indexing.watcher import DiskWatcher
from indexing.workspace import Progress, ScanResult, WorkspaceIndex, index_db_path

log = logging.getLogger(__name__)

DOCUMENT_DEBOUNCE_S = 0.5


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class CodeIndex:
    def __init__(
        self,
        root: Path,
        settings: IndexSettings,
        index_dir: Path,
        read_text: ReadText = read_disk,
    ) -> None:
        self.settings = settings
        self.workspace = WorkspaceIndex(root, settings, index_db_path(index_dir, root.resolve()))
        if self.workspace.store.rebuilt_because:
            log.warning("index rebuilt: %s", self.workspace.store.rebuilt_because)
        self.navigator = Navigator(self.workspace, read_text)
        self.retriever = Retriever(self.workspace, self.navigator)
        self.watcher: DiskWatcher | None = None
        self.last_scan: ScanResult | None = None
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.workspace.root

    def start(self, progress: Progress | None = None) -> Future[object]:
        """Scans in the background, then follows the disk. The future ends with the scan."""

        def scan() -> ScanResult:
            result = self.workspace.scan(progress)
            self.last_scan = result
            log.info(
                "index: %d files, %d read, %d removed in %.2f s",
                result.files, result.indexed, result.removed, result.seconds,
            )  # fmt: skip
            if self.settings.watch:
                self._start_watching()
            return result

        return self.workspace.submit(scan)

    def _start_watching(self) -> None:
        try:
            self.watcher = DiskWatcher(str(self.root), self._disk_changed)
            self.watcher.start()
        except Exception as exc:  # inotify limits, a vanished root: keep serving the index
            log.warning("cannot watch %s for changes: %s", self.root, exc)
            self.watcher = None

    def _disk_changed(self, paths: set[str]) -> None:
        self.workspace.submit(lambda: self.workspace.update_paths(sorted(paths)))

    # -- open documents ----------------------------------------------------------------------

    def document_changed(self, uri: str, text_of: Callable[[], str | None]) -> None:
        """Re-indexes an open document once its edits pause; `text_of` reads it then."""
        path = uri_to_path(uri)
        if path is None:
            return

        def fire() -> None:
            with self._lock:
                self._timers.pop(uri, None)
            text = text_of()
            if text is not None:
                self.workspace.submit(lambda: self.workspace.update_document(str(path), text))

        with self._lock:
            old = self._timers.pop(uri, None)
            if old is not None:
                old.cancel()
            timer = self._timers[uri] = threading.Timer(DOCUMENT_DEBOUNCE_S, fire)
            timer.daemon = True
            timer.start()

    def document_closed(self, uri: str) -> None:
        path = uri_to_path(uri)
        with self._lock:
            timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if path is not None:
            self.workspace.submit(lambda: self.workspace.close_document(str(path)))

    # -- retrieval as a completion context source ---------------------------------------------

    def retrieve(
        self, uri: str, text: str, line: int, window_start: int | None = None,
        recent_paths: Sequence[str] = (),
    ) -> Retrieved:  # fmt: skip
        path = uri_to_path(uri)
        if path is None:
            return Retrieved()
        return self.retriever.retrieve(
            path, text, line, window_start=window_start, recent_paths=recent_paths,
            budget_ms=self.settings.retrieval_ms,
        )  # fmt: skip

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        self.workspace.close()
