"""The server's byte streams: stdio (the default) and TCP, read through our own Framer.

Writes from any thread are handed to the event loop, so messages never interleave. For stdio
the protocol gets a private duplicate of the stdout descriptor and descriptor 1 is pointed at
stderr: a stray print(), or a native library writing to stdout (llama.cpp), lands in the log
instead of corrupting the stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable

from lsp_server.framing import DEFAULT_MAX_BODY, Framer, FramingError, Message
from lsp_server.protocol import TreellamaProtocol

log = logging.getLogger(__name__)

READ_SIZE = 1 << 16
# How long a half-received message may sit before we decide what it was.
STALL_SECONDS = 2.0


class LoopWriter:
    """pygls' writer interface; every write runs on the event loop thread, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sink: Callable[[bytes], None]) -> None:
        self._loop = loop
        self._sink = sink
        self._thread = threading.get_ident()
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if threading.get_ident() == self._thread:
            self._sink(data)
        else:
            self._loop.call_soon_threadsafe(self._sink, data)

    def close(self) -> None:
        self.closed = True


def take_over_stdout() -> int:
    """Returns a private descriptor for the protocol and points descriptor 1 at stderr."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_fd


def _write_all(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    return write


async def run_protocol(
    protocol: TreellamaProtocol,
    read: Callable[[], Awaitable[bytes]],
    *,
    max_body: int = DEFAULT_MAX_BODY,
    stall_seconds: float = STALL_SECONDS,
) -> int:
    """Feeds the protocol until the stream ends or `exit`; returns the process exit code."""
    framer = Framer(max_body)
    while True:
        timeout = stall_seconds if framer.pending else None
        try:
            data = await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            events = list(framer.stalled())
        else:
            if not data:
                log.info("client closed the stream")
                return 0 if protocol._shutdown else 1
            events = list(framer.feed(data))
        for event in events:
            code = _handle_event(protocol, event)
            if code is not None:
                return code


def _handle_event(protocol: TreellamaProtocol, event: Message | FramingError) -> int | None:
    if isinstance(event, FramingError):
        if event.fatal:
            log.critical(
                "%s; the message stream cannot be resynchronised, exiting so that the "
                "client restarts the server",
                event.detail,
            )
            return 1
        log.warning("framing: %s", event.detail)
        if event.code is not None:
            protocol.send_error(event.request_id, event.code, event.detail)
        return None
    try:
        protocol.dispatch(event.payload)
    except SystemExit as exc:  # pygls' `exit` handler calls sys.exit()
        return exc.code if isinstance(exc.code, int) else 0
    except Exception:
        log.exception("unexpected error while dispatching a message")
    return None


async def _stdin_chunks(loop: asyncio.AbstractEventLoop) -> Callable[[], Awaitable[bytes]]:
    """Reads stdin on a daemon thread: blocking reads must not hold up the event loop."""
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    fd = sys.stdin.fileno()

    def pump() -> None:
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                data = b""
            loop.call_soon_threadsafe(chunks.put_nowait, data)
            if not data:
                return

    threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
    return chunks.get


def serve_stdio(protocol: TreellamaProtocol, *, max_body: int = DEFAULT_MAX_BODY) -> int:
    protocol_fd = take_over_stdout()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        protocol.set_writer(LoopWriter(loop, _write_all(protocol_fd)))
        read = await _stdin_chunks(loop)
        return await run_protocol(protocol, read, max_body=max_body)

    return asyncio.run(main())


def serve_tcp(
    protocol: TreellamaProtocol, host: str, port: int, *, max_body: int = DEFAULT_MAX_BODY
) -> int:
    """Serves one client connection, then exits like the stdio server would."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if done.done() or protocol.writer is not None:
                writer.close()  # one editor per server process
                return
            protocol.set_writer(LoopWriter(loop, writer.write))
            code = await run_protocol(protocol, lambda: reader.read(READ_SIZE), max_body=max_body)
            writer.close()
            if not done.done():
                done.set_result(code)

        server = await asyncio.start_server(on_connect, host, port)
        addresses = ", ".join(str(sock.getsockname()) for sock in server.sockets)
        log.info("listening on %s", addresses)
        async with server:
            return await done

    return asyncio.run(main())
