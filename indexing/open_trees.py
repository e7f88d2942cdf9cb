"""Syntax trees of the open documents, kept current with `tree.edit` and incremental reparses.

Each LSP content change becomes a tree-sitter edit (byte offsets and points computed on the text
before the change), then the document is reparsed reusing the old tree, which costs little more
than the edit. Work is serialised on one thread: tree-sitter trees and parsers are not
thread-safe, and changes must apply in order.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from indexing.parsing import parse


@dataclass(frozen=True)
class TextChange:
    """One LSP content change, in str offsets of the text before it (None: whole document)."""

    start: int | None
    end: int | None
    text: str


@dataclass
class _Entry:
    language: str
    source: bytes
    tree: Any
    version: int | None


def _point(source: bytes, byte_offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, byte_offset)
    line_start = source.rfind(b"\n", 0, byte_offset) + 1
    return row, byte_offset - line_start


class OpenTrees:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parser")
        self._lock = threading.Lock()
        self.full_parses = 0
        self.incremental_parses = 0

    def opened(self, uri: str, language: str, text: str, version: int | None) -> Future[None]:
        return self._executor.submit(self._open, uri, language, text, version)

    def changed(
        self, uri: str, old_text: str, changes: list[TextChange], version: int | None
    ) -> Future[None]:
        return self._executor.submit(self._change, uri, old_text, changes, version)

    def closed(self, uri: str) -> None:
        with self._lock:
            self._entries.pop(uri, None)

    def tree(self, uri: str, version: int | None) -> Future[Any | None]:
        """The tree for exactly this version of the document, once earlier edits applied."""
        return self._executor.submit(self._tree, uri, version)

    def source(self, uri: str) -> Future[tuple[bytes, int | None] | None]:
        """The text the kept tree was parsed from, and its version, once earlier edits
        applied; for checking that the trees follow the editor's edits."""
        return self._executor.submit(self._source, uri)

    def _source(self, uri: str) -> tuple[bytes, int | None] | None:
        with self._lock:
            entry = self._entries.get(uri)
        return (entry.source, entry.version) if entry is not None else None

    def _open(self, uri: str, language: str, text: str, version: int | None) -> None:
        source = text.encode("utf-8")
        tree = parse(source, language)
        self.full_parses += 1
        with self._lock:
            self._entries[uri] = _Entry(language, source, tree, version)

    def _change(
        self, uri: str, old_text: str, changes: list[TextChange], version: int | None
    ) -> None:
        with self._lock:
            entry = self._entries.get(uri)
        if entry is None:
            return
        text = old_text
        # Edit a copy: trees already handed out may be in use on other threads.
        tree = entry.tree.copy() if entry.tree is not None else None
        source = entry.source
        for change in changes:
            if change.start is None or change.end is None or tree is None:
                text = change.text
                source = text.encode("utf-8")
                tree = None
                continue
            start_byte = len(text[: change.start].encode("utf-8"))
            old_end_byte = start_byte + len(text[change.start : change.end].encode("utf-8"))
            new_end_byte = start_byte + len(change.text.encode("utf-8"))
            start_point = _point(source, start_byte)
            old_end_point = _point(source, old_end_byte)
            text = text[: change.start] + change.text + text[change.end :]
            source = text.encode("utf-8")
            tree.edit(
                start_byte=start_byte,
                old_end_byte=old_end_byte,
                new_end_byte=new_end_byte,
                start_point=start_point,
                old_end_point=old_end_point,
                new_end_point=_point(source, new_end_byte),
            )
        if tree is not None:
            from indexing.parsing import parser_for

            parser = parser_for(entry.language)
            tree = parser.parse(source, tree) if parser is not None else None
            self.incremental_parses += 1
        else:
            tree = parse(source, entry.language)
            self.full_parses += 1
        with self._lock:
            self._entries[uri] = _Entry(entry.language, source, tree, version)

    def _tree(self, uri: str, version: int | None) -> Any | None:
        with self._lock:
            entry = self._entries.get(uri)
        if entry is None or entry.version != version:
            return None
        return entry.tree
