"""Web benchmark, in one run: the OpenAI-compatible model API's latency against
llama_cpp.server and raw llama.cpp on the same prompts (cold: the cache is reset before each),
and the delay from an agent event to a browser-side SSE reader seeing it.

    python -m bench.web [--model qwen2.5-coder-0.5b] [--prompts 8]

Ratios are against raw llama.cpp measured in the same run (target: the API 1.10x or less).
Run it alone: the model needs both cores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from agent.loop.tool_calls import ToolCall
from agent.model import ScriptedAgentModel
from bench.common import model_path, post_json, save, summary
from lsp_server.config import Config
from lsp_server.web.server import WebServer, standalone_core
from tests.support.servers import llama_cpp_server

N_CTX = 4096
THREADS = 2
PROMPTS = [
    "def fibonacci(n):\n    ",
    "import json\n\n\ndef load_config(path):\n    ",
    "class Stack:\n    def __init__(self):\n        ",
    "def is_prime(n: int) -> bool:\n    ",
    "def read_lines(path):\n    with open(path) as handle:\n        ",
    "def merge(a: dict, b: dict) -> dict:\n    ",
    "def slugify(text):\n    ",
    "async def fetch(session, url):\n    ",
]


def measure_raw(model: Path, prompts: list[str], tokens: int) -> list[float]:
    import llama_cpp

    llm = llama_cpp.Llama(str(model), n_ctx=N_CTX, n_threads=THREADS, n_batch=512, verbose=False)
    times = []
    for prompt in prompts:
        llm.reset()
        started = time.perf_counter()
        ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        for produced, _ in enumerate(llm.generate(ids, temp=0.0, top_k=1, reset=True), 1):
            if produced >= tokens:
                break
        times.append((time.perf_counter() - started) * 1000)
    del llm
    return times


def measure_http(base: str, prompts: list[str], tokens: int, token: str = "") -> list[float]:
    times = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        for prompt in prompts:
            started = time.perf_counter()
            answer = client.post("/v1/completions", json={
                "prompt": prompt, "max_tokens": tokens, "temperature": 0.0,
            })  # fmt: skip
            answer.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def measure_treellama(prompts: list[str], tokens: int) -> list[float]:
    """The standalone web server with the model loaded. The prompts share at most their first
    token or two, so each is evaluated (nearly) cold, as raw's are."""
    root = Path(tempfile.mkdtemp(prefix="treellama-bench-web-"))
    core, models = standalone_core(root, Config())
    assert models.loaded is not None
    models.loaded.result(timeout=600)
    server = WebServer(core)
    server.start_in_thread()
    try:
        base = f"http://127.0.0.1:{server.port}"
        measure_http(base, ["# warm up\n"], 1, server.guard.token)
        return measure_http(base, prompts, tokens, server.guard.token)
    finally:
        server.stop()
        core.manager.close()
        core.worker.stop()


def event_delay(samples: int = 20) -> list[float]:
    """ms from a task event being published to an SSE client reading it over HTTP."""
    root = Path(tempfile.mkdtemp(prefix="treellama-bench-sse-"))
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n"
                                       "    assert add(2, 3) == 5\n")  # fmt: skip
    replies = [
        ToolCall("", "edit_file", {"path": "calc.py", "old": "a - b", "new": "a + b"}).render(),
        ToolCall("", "run_tests", {}).render(),
        ToolCall("", "finish", {"summary": "fixed"}).render(),
    ]
    # A scripted agent model (its words don't matter here): the events are what is timed.
    core, _ = standalone_core(
        root, Config(), model_for=lambda cancel: ScriptedAgentModel(list(replies))
    )
    server = WebServer(core)
    server.start_in_thread()
    delays: list[float] = []
    published: dict[int, float] = {}
    original = core.events.publish

    def timed(state, event):  # type: ignore[no-untyped-def]
        original(state, event)
        published[core.events.last_id] = time.perf_counter()

    core.events.publish = timed  # type: ignore[method-assign]
    core.manager.on_event = timed
    headers = {"Authorization": f"Bearer {server.guard.token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers,
                          timeout=60) as client:  # fmt: skip
            for _ in range(samples):
                task_id = client.post("/api/v1/tasks", json={"instruction": "fix add"}).json()["id"]
                ident = 0
                with client.stream(
                    "GET",
                    f"/api/v1/tasks/{task_id}/events",
                    headers={"Last-Event-ID": str(core.events.last_id)},
                ) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("id: "):
                            ident = int(line[4:])
                        elif line.startswith("data: ") and ident in published:
                            delays.append((time.perf_counter() - published[ident]) * 1000)
                            if json.loads(line[6:])["kind"] in ("done", "failed"):
                                break
                core.manager.discard(task_id)
    finally:
        server.stop()
        core.manager.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()
    prompts, path = PROMPTS, model_path(args.model)
    print(f"web: {len(prompts)} prompts, {args.tokens} tokens each, model {args.model}")
    treellama = measure_treellama(prompts, args.tokens)
    raw = measure_raw(path, prompts, args.tokens)
    with llama_cpp_server(path, N_CTX, THREADS) as base:
        post_json(f"{base}/v1/completions", {"prompt": "# warm up\n", "max_tokens": 1})
        server = measure_http(base, prompts, args.tokens)
    delays = event_delay()
    results = {
        "model": args.model, "tokens": args.tokens, "prompts": len(prompts),
        "treellama_api_ms": summary(treellama), "llama_cpp_server_ms": summary(server),
        "raw_ms": summary(raw), "event_to_browser_ms": summary(delays),
    }  # fmt: skip
    raw_p50 = results["raw_ms"]["p50"]
    results["ratios"] = {
        "treellama_over_raw_p50": round(results["treellama_api_ms"]["p50"] / raw_p50, 3),
        "llama_cpp_server_over_raw_p50": round(results["llama_cpp_server_ms"]["p50"] / raw_p50, 3),
    }
    print(json.dumps(results, indent=2))
    print(f"saved {save('web', results)}")


if __name__ == "__main__":
    threading.current_thread().name = "bench-web"
    main()
