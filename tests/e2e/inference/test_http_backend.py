"""The HTTP backend against a real OpenAI-compatible server: llama-cpp-python's own
llama_cpp.server, started on loopback with the default model."""

from __future__ import annotations

import threading

import pytest

from inference.fim import FimInput, qwen
from inference.http_backend import BackendUnavailable, HttpEngine
from inference.model_manager import resolve_model
from inference.settings import BackendSettings, ModelSettings
from tests.support.http_backend import complete_over_lsp, http
from tests.support.servers import llama_cpp_server

pytestmark = pytest.mark.e2e

FIM = FimInput("def add(a, b):\n    return", "\n\nprint(add(1, 2))\n")


@pytest.fixture(scope="module")
def server_url():
    with llama_cpp_server(resolve_model(ModelSettings()).path, 2048, 2) as url:
        yield url


def test_openai_completions_matches_the_local_engine(server_url, engine):
    remote = http(server_url, "openai-completions").generate(
        qwen(FIM), max_tokens=6, is_cancelled=lambda: False, fim=FIM
    )
    local = engine.generate(qwen(FIM), max_tokens=6, is_cancelled=lambda: False)
    assert remote.text.strip() and remote.text == local.text


def test_streaming_stops_when_cancelled(server_url):
    cancel = threading.Event()
    seen = []

    def stop_after_first(text: str) -> bool:
        seen.append(text)
        cancel.set()
        return False

    result = http(server_url, "openai-completions").generate(
        qwen(FimInput("numbers = [", "]\n")),
        max_tokens=200,
        is_cancelled=cancel.is_set,
        should_stop=stop_after_first,
        fim=FIM,
    )
    assert result.stop_reason == "cancelled"
    assert len(seen) == 1 and result.generated_tokens <= 2


def test_openai_chat_fills_the_hole_without_fences(server_url):
    result = http(server_url, "openai-chat").generate(
        "", max_tokens=24, is_cancelled=lambda: False, fim=FIM
    )
    assert "```" not in result.text
    assert result.text.strip()


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        HttpEngine(BackendSettings(kind="http", url="http://127.0.0.1:9", timeout_ms=500))


async def test_the_language_server_completes_through_the_http_backend(server_url):
    text, status = await complete_over_lsp(server_url, "openai-completions")
    assert text.strip()
    assert status["model"]["name"] == server_url
