"""The OpenAI-compatible model API with the official `openai` SDK as the client, against the
real web server serving the real embedded model: models, completions with a FIM suffix, chat
(plain, streamed, under a JSON schema), responses (plain and streamed), and errors in OpenAI's
shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from lsp_server.config import Config
from lsp_server.web.server import WebServer, standalone_core

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = Path(tmp_path_factory.mktemp("model-api"))
    core, services = standalone_core(root, Config())
    assert services.models.loaded is not None
    services.models.loaded.result(timeout=300)
    web = WebServer(core)
    web.start_in_thread()
    yield web
    web.stop()
    services.close()
    core.worker.stop()


@pytest.fixture
def client(server: WebServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1",
                         api_key=server.guard.token, max_retries=0)  # fmt: skip


def test_models_and_a_fill_in_the_middle_completion(client: openai.OpenAI) -> None:
    (model,) = client.models.list().data
    assert model.id.startswith("qwen2.5-coder") and model.owned_by == "treellama"
    done = client.completions.create(
        model=model.id, prompt="def add(a, b):\n    return ", suffix="\n\n\nprint(add(2, 3))\n",
        max_tokens=12, temperature=0,
    )  # fmt: skip
    text = done.choices[0].text
    assert "a" in text and "b" in text and "<|fim" not in text, text
    assert done.usage is not None and done.usage.completion_tokens > 0


def test_chat_plain_streamed_and_under_a_json_schema(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Name one primary colour. One word."}]
    plain = client.chat.completions.create(model="any", messages=messages, max_tokens=8)
    answer = plain.choices[0].message.content or ""
    assert answer.strip() and plain.choices[0].finish_reason in ("stop", "length")

    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="any", messages=messages, max_tokens=8, stream=True
        )
        if chunk.choices
    ]
    assert len(pieces) > 2 and "".join(pieces) == answer  # greedy: the same words, streamed

    stopped = client.chat.completions.create(
        model="any", messages=[{"role": "user", "content": "Count: 1, 2, 3, 4, 5, 6"}],
        max_tokens=40, stop=["4"],
    )  # fmt: skip
    assert "4" not in (stopped.choices[0].message.content or "")

    schema = {"type": "object", "properties": {"name": {"type": "string"},
              "age": {"type": "integer"}}, "required": ["name", "age"]}  # fmt: skip
    shaped = client.chat.completions.create(
        model="any", max_tokens=60,
        messages=[{"role": "user", "content": "A person called Ada, aged 36, as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
    )  # fmt: skip
    person = json.loads(shaped.choices[0].message.content or "")
    assert isinstance(person["name"], str) and isinstance(person["age"], int)


def test_responses_plain_and_streamed(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="any", input="Say hello in one word.", max_output_tokens=8
    )
    assert response.status == "completed" and response.output_text.strip()
    kinds: list[str] = []
    deltas: list[str] = []
    for event in client.responses.create(
        model="any", input="Say hello in one word.", max_output_tokens=8, stream=True
    ):
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "".join(deltas) == response.output_text


def test_errors_come_in_openai_shape(server: WebServer, client: openai.OpenAI) -> None:
    wrong = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="wrong",
                          max_retries=0)  # fmt: skip
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="any", messages=[], max_tokens=4)
    assert "messages" in str(bad.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": "hi"}], temperature=9
        )
    assert client.models.list().data  # still up
