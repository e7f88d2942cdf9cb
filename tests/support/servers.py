"""Local servers that tests and benchmarks start: a free loopback port, waiting until a server
answers, and llama-cpp-python's own OpenAI-compatible server."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(
    url: str, process: subprocess.Popen, what: str, timeout_s: float = 120
) -> None:
    """Polls `url` until it answers 2xx; raises if `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.3)


@contextlib.contextmanager
def llama_cpp_server(model: Path, n_ctx: int, threads: int) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server, on loopback only."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/v1/models", process, "llama_cpp.server")
        yield base
    finally:
        process.terminate()
        process.wait(30)
