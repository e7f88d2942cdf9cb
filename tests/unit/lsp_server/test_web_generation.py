"""Streamed deltas of the model API: never a stop string, nor the start of one that may still
complete; everything once the text ends."""

from __future__ import annotations

import asyncio

from lsp_server.web.generation import _Stream


class ImmediateLoop:
    def call_soon_threadsafe(self, function, *args):  # type: ignore[no-untyped-def]
        function(*args)


def deltas(stop: tuple[str, ...], texts: list[str]) -> list[str]:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    stream = _Stream(stop, ImmediateLoop(), queue)  # type: ignore[arg-type]
    for text in texts[:-1]:
        stream.push(text)
    stream.push(texts[-1], final=True)
    found = []
    while not queue.empty():
        item = queue.get_nowait()
        assert item is not None
        found.append(item)
    return found


def test_deltas_hold_back_what_may_become_a_stop_string():
    texts = ["Hel", "Hello", "Hello, wo", "Hello, wor", "Hello, world", "Hello, world!"]
    sent = deltas(("world",), texts)
    assert "".join(sent) == "Hello, "  # "world" is never sent, nor "wo" while it might be
    assert sent[:2] == ["H", "ello"]  # four characters (len("world") - 1) wait each time
    assert "".join(deltas((), texts)) == "Hello, world!"
    assert "".join(deltas(("\n\n",), ["a\n", "a\nb\n", "a\nb\n\nc"])) == "a\nb"
