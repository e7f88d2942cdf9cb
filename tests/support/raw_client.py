"""A deliberately bare JSON-RPC client for sending what well-behaved clients never send."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

from lsp_server.framing import Framer, Message

SERVER = [sys.executable, "-m", "lsp_server", "serve"]


class RawClient:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*SERVER, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TREELLAMA_COMPLETION_MAX_TOKENS": "16", **(env or {})},
        )
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.received: list[Any] = []
        self.stderr = b""
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        framer = Framer()
        assert self.proc.stdout is not None
        while data := os.read(self.proc.stdout.fileno(), 65536):
            for event in framer.feed(data):
                assert isinstance(event, Message), f"server wrote a malformed frame: {event}"
                self.inbox.put(event.payload)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while data := os.read(self.proc.stderr.fileno(), 65536):
            self.stderr += data

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, payload: Any, *, length_delta: int = 0, header: str = "Content-Length") -> None:
        body = json.dumps(payload).encode()
        self.send_bytes(f"{header}: {len(body) + length_delta}\r\n\r\n".encode() + body)

    def request(self, msg_id: int | str, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})

    def response(self, msg_id: int | str | None, timeout: float = 30) -> dict:
        for message in self.received:
            if (
                isinstance(message, dict)
                and message.get("id") == msg_id
                and "method" not in message
            ):
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = self.inbox.get(timeout=max(0.01, deadline - time.monotonic()))
            self.received.append(message)
            if (
                isinstance(message, dict)
                and message.get("id") == msg_id
                and "method" not in message
            ):
                return message

    def drain(self, seconds: float = 0.5) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.received.append(self.inbox.get(timeout=0.05))

    def initialize(self, process_id: int | None = None) -> dict:
        params = {"capabilities": {}, "rootUri": None, "processId": process_id}
        self.request(0, "initialize", params)
        result = self.response(0)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return result

    def responses_by_id(self) -> dict[Any, int]:
        counts: dict[Any, int] = {}
        for message in self.received:
            if isinstance(message, dict) and "method" not in message:
                counts[message.get("id")] = counts.get(message.get("id"), 0) + 1
        return counts

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait(10)
        for reader in self._readers:  # everything the server wrote has been read
            reader.join(5)
        return code
