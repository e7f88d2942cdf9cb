"""Extra context for the completion prompt: where the user has been working, kept as chunks.

Following llama.vim, a region of code enters a ring buffer when the user leaves it (moves to
another document, or far away in the same one), saves it, or yanks/selects text. Chunks go
before the current file in the prompt, oldest first, so that a new chunk only appends to the
prompt's prefix and the KV cache of the rest stays valid. Near-duplicates (Jaccard similarity
of their lines above 0.9) replace each other instead of piling up.

`ContextSource` is the interface other context (the code index) plugs into.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from inference.fim import ContextChunk

SIMILAR = 0.9
RETRIEVAL_MIN_PARAMS = 3_000_000_000


def retrieval_helps(setting: str, n_params: int | None) -> bool:
    """Whether retrieved code goes into completion prompts. `setting`: on, off or auto;
    `n_params`: the loaded model's size (0: unknown, a remote model; None: none loaded).
    Measured (bench.retrieval_value): no gain for the 0.5B or the 1.5B, so under auto models
    below 3B go without. Larger and remote models get it; that part is unmeasured."""
    if setting != "auto":
        return setting == "on"
    if n_params is None:
        return False
    return n_params == 0 or n_params >= RETRIEVAL_MIN_PARAMS


class ContextSource(Protocol):
    """Anything that can offer chunks for a cursor position, best last (nearest the file).
    `path` is relative to the workspace; `window_start` is the first line the prompt's own
    prefix window shows, so a source need not repeat what is below it."""

    def chunks_for(
        self, uri: str, path: str, text: str, line: int, window_start: int
    ) -> Sequence[ContextChunk]: ...


def line_set(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def chunk_around(text: str, line: int, lines: int) -> tuple[str, int, int]:
    """The text of about `lines` lines centred on `line`, with its first and last line numbers."""
    all_lines = text.split("\n")
    start = max(0, line - lines // 2)
    end = min(len(all_lines), start + lines)
    start = max(0, end - lines)
    return "\n".join(all_lines[start:end]), start, end - 1


@dataclass(frozen=True)
class _Entry:
    chunk: ContextChunk
    uri: str
    first_line: int
    last_line: int
    lines: frozenset[str]


@dataclass
class _Cursor:
    path: str
    text: str
    line: int


class ContextRing:
    """The chunks of recently visited code, most recent last. Thread-safe."""

    def __init__(self, capacity: int = 16, chunk_lines: int = 64) -> None:
        self.capacity = capacity
        self.chunk_lines = chunk_lines
        self._entries: deque[_Entry] = deque()
        self._cursors: dict[str, _Cursor] = {}
        self._active: str | None = None
        self._lock = threading.Lock()
        self.on_change: Callable[[], None] = lambda: None

    def add(
        self, chunk: ContextChunk, uri: str = "", first_line: int = 0, last_line: int = 0
    ) -> bool:
        """Adds a chunk; returns False if it was empty. A near-duplicate is replaced."""
        lines = line_set(chunk.text)
        if not lines:
            return False
        entry = _Entry(chunk, uri, first_line, last_line, lines)
        with self._lock:
            for old in list(self._entries):
                if jaccard(old.lines, lines) > SIMILAR:
                    self._entries.remove(old)
            self._entries.append(entry)
            while len(self._entries) > self.capacity:
                self._entries.popleft()
        self.on_change()
        return True

    def _capture(self, uri: str, cursor: _Cursor, source: str) -> None:
        text, first, last = chunk_around(cursor.text, cursor.line, self.chunk_lines)
        self.add(ContextChunk(cursor.path, text, source), uri, first, last)

    def note_cursor(self, uri: str, path: str, text: str, line: int) -> None:
        """Called for every completion request: leaving a region makes it a chunk."""
        with self._lock:
            previous_active = self._active
            left_document = self._cursors.get(previous_active) if previous_active else None
            same_document = self._cursors.get(uri)
            self._cursors[uri] = _Cursor(path, text, line)
            self._active = uri
        if left_document is not None and previous_active != uri:
            self._capture(previous_active or "", left_document, "viewed")
        elif same_document is not None and abs(same_document.line - line) > self.chunk_lines:
            self._capture(uri, same_document, "viewed")

    def note_saved(self, uri: str, path: str, text: str) -> None:
        with self._lock:
            cursor = self._cursors.get(uri)
        if cursor is not None:
            self._capture(uri, _Cursor(path, text, cursor.line), "saved")

    def note_yank(self, path: str, text: str) -> None:
        self.add(ContextChunk(path or "clipboard", text, "yank"))

    def forget(self, uri: str) -> None:
        with self._lock:
            self._cursors.pop(uri, None)

    def chunks_for(
        self, uri: str, line: int, local_before: int = 256, local_after: int = 64
    ) -> tuple[ContextChunk, ...]:
        """Chunks to show the model, oldest first, minus those the local window already has."""
        with self._lock:
            entries = list(self._entries)
        return tuple(
            entry.chunk
            for entry in entries
            if not (
                entry.uri == uri
                and entry.last_line >= line - local_before
                and entry.first_line <= line + local_after
            )
        )


def pack_chunks(
    chunks: Sequence[ContextChunk], budget_tokens: int, count_tokens: Callable[[str], int]
) -> list[ContextChunk]:
    """The most recent chunks that fit in the budget, in their original (oldest first) order."""
    chosen: list[ContextChunk] = []
    used = 0
    for chunk in reversed(chunks):
        cost = count_tokens(chunk.path) + count_tokens(chunk.text) + 4
        if used + cost > budget_tokens:
            continue
        chosen.append(chunk)
        used += cost
    chosen.reverse()
    return chosen
