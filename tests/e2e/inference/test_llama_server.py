"""The HTTP backend's llama-server APIs (`/infill`, `/completion`) against the real llama-server,
built from the same llama.cpp that llama-cpp-python vendors (`python -m tests.support.llama_sources
--server`, run by `make test`), started on loopback with the default model."""

from __future__ import annotations

import os
import threading

import pytest

from inference.fim import ContextChunk, FimInput, qwen
from inference.model_manager import resolve_model
from inference.settings import ModelSettings
from tests.support.http_backend import complete_over_lsp, http
from tests.support.llama_sources import llama_server, running_llama_server

pytestmark = pytest.mark.e2e

FIM = FimInput("def add(a, b):\n    return", "\n\nprint(add(1, 2))\n")


@pytest.fixture(scope="module")
def server_url():
    binary = llama_server()
    if binary is None:
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail(
                "llama-server is not built: run `python -m tests.support.llama_sources --server`"
            )
        pytest.skip("llama-server is not built (python -m tests.support.llama_sources --server)")
    with running_llama_server(binary, resolve_model(ModelSettings()).path, 2048, 2) as url:
        yield url


def test_completion_with_our_prompt_matches_the_local_engine(server_url, engine):
    remote = http(server_url, "completion").generate(
        qwen(FIM), max_tokens=6, is_cancelled=lambda: False, fim=FIM
    )
    local = engine.generate(qwen(FIM), max_tokens=6, is_cancelled=lambda: False)
    assert remote.text.strip() and remote.text == local.text


def test_infill_formats_the_prompt_itself_and_fills_the_hole(server_url):
    result = http(server_url, "infill").generate(
        "", max_tokens=8, is_cancelled=lambda: False, fim=FIM
    )
    assert "a + b" in result.text


ABOVE = "".join(f"def helper_{k}(x):\n    return x + {k}\n\n" for k in range(10))
BELOW = "\n\n" + "".join(f"print(add({k}, helper_{k}(1)))\n" for k in range(20))


def server_timings(server_url: str, path: str, payload: dict) -> dict:
    """llama-server's own count of the prompt tokens it read (`prompt_n`) and kept."""
    import json
    import urllib.request

    body = {**payload, "n_predict": 2, "cache_prompt": True, "temperature": 0.0}
    request = urllib.request.Request(
        f"{server_url}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["timings"]


def test_our_line_layout_prompt_over_completion_rereads_only_the_line(server_url):
    """The line layout's text sent to /completion (or /v1/completions): typing on the line
    changes only the prompt's end, so the server's prompt cache keeps the suffix."""
    line = FimInput(ABOVE + "def add(a, b):\n    ", BELOW, middle="return a")
    http(server_url, "completion").generate(
        qwen(line), max_tokens=4, is_cancelled=lambda: False, fim=line
    )
    typed = qwen(FimInput(line.prefix, BELOW, middle="return a +"))
    timings = server_timings(server_url, "/completion", {"prompt": typed})
    assert timings["prompt_n"] < 10 and timings["cache_n"] > 250, timings


def test_infill_puts_its_prompt_field_before_the_suffix_so_the_suffix_is_read_again(server_url):
    """What llama-server does with /infill's `prompt` (llama.vim sends the line there): its
    format_infill appends it to the prefix, before FIM_SUF. So over /infill a keystroke reads
    the suffix again, unless the server runs with --cache-reuse (llama.vim's advice)."""
    fim = FimInput(ABOVE + "def add(a, b):\n    ", BELOW, middle="return a")
    result = http(server_url, "infill").generate("", max_tokens=4, is_cancelled=lambda: False,
                                                 fim=fim)  # fmt: skip
    assert result.text.strip().startswith("+")  # the middle reached the model before the hole
    payload = {"input_prefix": fim.prefix, "input_suffix": BELOW, "prompt": "return a +"}
    timings = server_timings(server_url, "/infill", payload)
    assert timings["prompt_n"] > 100, timings  # the suffix, after the changed prefix end


def test_infill_sends_context_chunks_as_input_extra(server_url):
    # The number can only come from the other file's chunk: the server must have used it.
    prefix = "# the server's port number, as set in config.py\nPORT = "
    chunk = ContextChunk("config.py", "SECRET_PORT = 48213\n")
    engine = http(server_url, "infill")
    without = engine.generate("", max_tokens=8, is_cancelled=lambda: False,
                              fim=FimInput(prefix, "\n"))  # fmt: skip
    with_chunk = engine.generate("", max_tokens=8, is_cancelled=lambda: False,
                                 fim=FimInput(prefix, "\n", chunks=(chunk,)))  # fmt: skip
    assert "48213" not in without.text
    assert with_chunk.text.startswith("48213")


def test_infill_stops_streaming_when_cancelled(server_url):
    cancel = threading.Event()
    seen: list[str] = []

    def stop_after_first(text: str) -> bool:
        seen.append(text)
        cancel.set()
        return False

    result = http(server_url, "infill").generate(
        "",
        max_tokens=200,
        is_cancelled=cancel.is_set,
        should_stop=stop_after_first,
        fim=FimInput("numbers = [", "]\n"),
    )
    assert result.stop_reason == "cancelled" and len(seen) == 1


async def test_the_language_server_completes_through_llama_server_infill(server_url):
    text, status = await complete_over_lsp(server_url, "infill")
    assert text.strip()
    assert status["model"]["name"] == server_url


def test_agent_candidates_over_http_are_greedy_then_sampled(server_url):
    """Through an HTTP backend the pipeline's candidates come one request each: the first
    greedy, the others sampled with their own seeds."""
    from agent.model import WorkerChatModel
    from inference.worker import ModelWorker, Priority

    worker = ModelWorker()
    remote = http(server_url, "completion")
    worker.submit(lambda _engine, _cancel: worker.set_engine(remote), Priority.COMPLETION).result()
    try:
        messages = [{"role": "user", "content": "Write a Python function that adds two numbers."}]
        got = WorkerChatModel(worker).candidates(
            messages, reply_prefix="```python\n", temperatures=[0.0, 1.0, 1.0], stop=["```"],
            max_tokens=40, seed=7,
        )  # fmt: skip
        greedy = remote.generate(
            remote.render_chat(messages) + "```python\n", max_tokens=40, is_cancelled=lambda: False
        )
    finally:
        worker.stop()
    assert len(got.texts) == 3 and all(t.strip() for t in got.texts)
    assert got.texts[0] == greedy.text.split("```")[0]  # the server's own greedy decoding
    assert len(set(got.texts)) > 1  # sampling, not three greedy copies
