"""The index of one workspace: the initial scan, updates from disk and from open documents.

All writes run on one indexer thread, in order, so a watcher event can never race the scan;
readers (LSP requests, retrieval) query SQLite from their own threads meanwhile. `generation`
counts changes, so that derived caches (the symbol name list, the file graph) know when to
refresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from indexing.facts import FileFacts, extract
from indexing.ignore import BINARY_SNIFF_BYTES, IgnoreRules, walk
from indexing.languages import EXTENSIONS, language_for
from indexing.settings import IndexSettings
from indexing.store import FileRecord, IndexCorrupt, IndexStore, content_hash

log = logging.getLogger(__name__)

BATCH_FILES = 256
PARALLEL_FROM = 200  # files to read before worker processes pay for their start-up
MAX_WORKERS = 4
BATCH_S = 0.5

Progress = Callable[[int, int], None]  # (files done, files in total)


def index_db_path(index_dir: Path, root: Path) -> Path:
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return index_dir / f"{root.name or 'root'}-{digest}.sqlite3"


FileRow = tuple[str, int, int, str, FileFacts]  # path, size, mtime_ns, hash, facts


@dataclass(frozen=True)
class FileOutcome:
    relative: str
    row: FileRow | None = None  # new content to store
    unchanged: tuple[int, int] | None = None  # same content: the new (size, mtime_ns)
    # Neither: gone, binary or too large, so the file leaves the index.


def read_file(root: str, relative: str, max_bytes: int, known_hash: str | None) -> FileOutcome:
    """Reads and extracts one file. A plain function, so worker processes can run it."""
    path = Path(root) / relative
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            return FileOutcome(relative)
        data = path.read_bytes()
    except OSError:
        return FileOutcome(relative)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return FileOutcome(relative)
    digest = content_hash(data)
    if digest == known_hash:
        return FileOutcome(relative, unchanged=(stat.st_size, stat.st_mtime_ns))
    text = data.decode("utf-8", errors="replace")
    facts = extract(text, language_for(None, relative))
    return FileOutcome(relative, row=(relative, stat.st_size, stat.st_mtime_ns, digest, facts))


def _lower_priority() -> None:
    """Index workers yield the CPU to the model and the editor."""
    with contextlib.suppress(OSError):
        os.nice(10)


@dataclass(frozen=True)
class ScanResult:
    files: int
    indexed: int  # read and parsed again
    removed: int
    seconds: float


class WorkspaceIndex:
    def __init__(self, root: Path, settings: IndexSettings, db_path: Path) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.db_path = db_path
        self.store = IndexStore(db_path)
        self.rules = IgnoreRules(self.root, settings.exclude)
        self.generation = 0
        self.ready = threading.Event()  # set once the first scan has finished
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="treellama-index")
        self._open_documents: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()

    # -- paths -------------------------------------------------------------------------

    def relative(self, path: str | Path) -> str | None:
        """The root-relative '/'-separated path, or None when outside the workspace."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None

    def absolute(self, relative: str) -> Path:
        return self.root / relative

    # -- writing (on the indexer thread) -------------------------------------------------

    def submit(self, job: Callable[[], object]) -> Future[object]:
        """On the indexer thread; after close (a watcher's timer that fired as the index
        closed), a cancelled future: the job would write to a closed store."""
        try:
            if not self._closing.is_set():
                return self._writer.submit(job)
        except RuntimeError:  # shut down between the check and the submit
            pass
        future: Future[object] = Future()
        future.cancel()
        return future

    def _changed(self) -> None:
        with self._lock:
            self.generation += 1

    def _apply(self, outcome: FileOutcome) -> FileRow | None:
        """Records what reading a file found, except new content, which it returns."""
        if outcome.row is not None:
            return outcome.row
        if outcome.unchanged is not None:
            self.store.touch_file(outcome.relative, *outcome.unchanged)
        else:
            self.store.remove_files([outcome.relative])
        return None

    def _index_file(self, relative: str, known: FileRecord | None) -> bool:
        """(Re)indexes one file from disk; returns whether its content was read again."""
        row = self._apply(
            read_file(str(self.root), relative, self._max_bytes, known.hash if known else None)
        )
        if row is not None:
            self.store.put_files([row])
        return row is not None

    @property
    def _max_bytes(self) -> int:
        return self.settings.max_file_kb * 1024

    def _outcomes(self, todo: list[tuple[str, str | None]]) -> Iterator[FileOutcome]:
        """Reads the files in `todo`, in worker processes when there are many: tree-sitter
        holds the GIL, so threads would not parse in parallel."""
        jobs = [(str(self.root), relative, self._max_bytes, digest) for relative, digest in todo]
        workers = min(MAX_WORKERS, os.cpu_count() or 1)
        if len(jobs) < PARALLEL_FROM or workers < 2:
            yield from (read_file(*job) for job in jobs)
            return
        context = multiprocessing.get_context("spawn")  # never fork a threaded server
        with ProcessPoolExecutor(workers, context, initializer=_lower_priority) as pool:
            chunksize = max(1, min(64, len(jobs) // (workers * 8)))
            yield from pool.map(read_file, *zip(*jobs, strict=True), chunksize=chunksize)

    def scan(self, progress: Progress | None = None) -> ScanResult:
        """Brings the database in line with the disk: new and changed files are read,
        unchanged ones (same size and mtime) are not, deleted ones are dropped."""
        started = time.monotonic()
        files = walk(self.rules, EXTENSIONS)
        known = self.store.files()
        total = len(files)
        todo = []
        for relative, stat in files:
            record = known.get(relative)
            if record is None or record.size != stat.st_size or record.mtime_ns != stat.st_mtime_ns:
                todo.append((relative, record.hash if record else None))
        indexed = 0
        batch: list[FileRow] = []
        flushed = time.monotonic()
        for done, outcome in enumerate(self._outcomes(todo), total - len(todo) + 1):
            if self._closing.is_set():  # the server is exiting: the next start resumes
                break
            row = self._apply(outcome)
            if row is not None:
                batch.append(row)
                indexed += 1
            # Commit in batches, often enough that results show up while the scan runs.
            if batch and (len(batch) >= BATCH_FILES or time.monotonic() - flushed > BATCH_S):
                self.store.put_files(batch)
                batch, flushed = [], time.monotonic()
                self._changed()
            if progress is not None:
                progress(done, total)
        if batch:
            self.store.put_files(batch)
        if self._closing.is_set():
            return ScanResult(total, indexed, 0, time.monotonic() - started)
        if progress is not None:
            progress(total, total)
        seen = {relative for relative, _ in files}
        gone = [path for path in known if path not in seen and path not in self._open_documents]
        self.store.remove_files(gone)
        self._changed()
        self.ready.set()
        return ScanResult(total, indexed, len(gone), time.monotonic() - started)

    def update_paths(self, paths: Iterable[str]) -> int:
        """Follows changes on disk to these absolute paths; returns how many were re-read."""
        indexed = 0
        rules_changed = False
        for path in paths:
            relative = self.relative(path)
            if relative is None or relative in self._open_documents:
                continue
            if Path(relative).name == ".gitignore":
                parent = str(Path(relative).parent)
                self.rules.load_gitignore("" if parent == "." else parent)
                rules_changed = True
                continue
            if Path(relative).suffix.lower() not in EXTENSIONS:
                continue
            if self.rules.ignored(relative):
                self.store.remove_files([relative])
                continue
            indexed += self._index_file(relative, self.store.record(relative))
        if rules_changed:  # files may have become ignored, or no longer be
            indexed += self.scan().indexed
        self._changed()
        return indexed

    def update_document(self, path: str, text: str) -> None:
        """Indexes an open document's text (which may be ahead of the disk). Its stat is
        recorded as unknown, so the next scan reads the disk again."""
        relative = self.relative(path)
        if relative is None or self.rules.ignored(relative):
            return
        data = text.encode("utf-8", errors="replace")
        if len(data) > self.settings.max_file_kb * 1024:
            return
        self._open_documents.add(relative)
        facts = extract(text, language_for(None, relative))
        self.store.put_file(relative, len(data), -1, content_hash(data), facts)
        self._changed()

    def close_document(self, path: str) -> None:
        """The editor closed it: from now on the disk is the truth again."""
        relative = self.relative(path)
        if relative is None:
            return
        self._open_documents.discard(relative)
        self.update_paths([str(self.absolute(relative))])

    def close(self) -> None:
        self._closing.set()
        self._writer.shutdown(wait=True, cancel_futures=True)
        self.store.close()


def open_index(root: Path, settings: IndexSettings, db_path: Path) -> WorkspaceIndex:
    """Opens the workspace's index; a database that turns out unreadable later is rebuilt."""
    try:
        return WorkspaceIndex(root, settings, db_path)
    except IndexCorrupt as exc:
        log.warning("index database %s unusable (%s); rebuilding it", db_path, exc)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        return WorkspaceIndex(root, settings, db_path)
