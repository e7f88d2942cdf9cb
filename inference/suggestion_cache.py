"""Answers without the model: recent suggestions, and what is left of one as the user types it.

An entry remembers the text just before and after the cursor when a suggestion was made. A new
request hits an entry when the document still has the same text after the cursor and the text
before it is the entry's, followed by the first characters of the suggestion (typed ahead, or
nothing at all): the answer is the rest of the suggestion. Lookups compare a bounded amount of
text in place, without copying the document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

CONTEXT_CHARS = 1500  # how much text either side of the cursor must match
SCAN = 32  # how many recent entries of a document a lookup looks at


@dataclass(frozen=True)
class _Entry:
    uri: str
    offset: int  # the cursor's offset in the document the suggestion was made for
    before: str
    after: str
    text: str


class SuggestionCache:
    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int, str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, uri: str, text: str, offset: int, suggestion: str) -> None:
        if not suggestion:
            return
        before = text[max(0, offset - CONTEXT_CHARS) : offset]
        after = text[offset : offset + CONTEXT_CHARS]
        entry = _Entry(uri, offset, before, after, suggestion)
        key = (uri, offset, before[-200:], after[:200])
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = entry
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def get(self, uri: str, text: str, offset: int) -> str | None:
        """The rest of a cached suggestion for this cursor, or None."""
        with self._lock:
            recent = [e for e in reversed(self._entries.values()) if e.uri == uri][:SCAN]
        for entry in recent:
            typed = offset - entry.offset
            if not 0 <= typed < len(entry.text):
                continue
            if not text.startswith(entry.after, offset):
                continue
            if not text.endswith(entry.before + entry.text[:typed], 0, offset):
                continue
            return entry.text[typed:]
        return None
