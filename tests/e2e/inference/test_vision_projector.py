"""The in-process vision path with the real default model and a projector llama.cpp loads:
libmtmd (llama-cpp-python's generic multimodal handler) encodes the image and the text model
reads its embeddings. The projector is made in the test with random weights
(tests.support.projector_fixture): no trained one exists for the shipped models, so what the
model says
about an image means nothing; these tests check that the image reaches the model, that the
model's cache stays right for the text prompts after it, and that a task shows the model's
words back."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agent.approvals import AllowAll
from agent.images import parse_images
from agent.model import WorkerChatModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from inference import vision
from inference.engine import LlamaEngine
from inference.model_manager import resolve_model
from inference.settings import ModelSettings
from inference.worker import ModelWorker, Priority
from tests.support import screenshots
from tests.support.projector_fixture import write_projector
from tests.support.projects import TEST_COMMAND, make_shop, shop_traceback

pytestmark = pytest.mark.e2e

QUESTION = "What does this screenshot show?"


@pytest.fixture(scope="module")
def seeing_engine(engine: LlamaEngine, tmp_path_factory: pytest.TempPathFactory) -> LlamaEngine:
    projector = tmp_path_factory.mktemp("vision") / "mmproj-random.gguf"
    write_projector(projector, text_width=int(engine._llm.n_embd()))
    model = resolve_model(ModelSettings())
    return LlamaEngine(model.path, ModelSettings(n_ctx=2048, mmproj=str(projector)))


def data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def greedy(engine: LlamaEngine, prompt: str) -> str:
    return engine.generate(prompt, max_tokens=24, is_cancelled=lambda: False).text


def test_an_image_goes_through_the_projector_into_the_model(seeing_engine: LlamaEngine) -> None:
    assert seeing_engine.sees_images
    crash = data_uri(Image.open(io.BytesIO(screenshots.error_dialog().image)))
    blank = data_uri(Image.new("RGB", (400, 200), "white"))

    def said(uri: str) -> str:
        return seeing_engine.describe(vision.image_messages(QUESTION, [uri]), max_tokens=12)

    first = said(crash)
    assert first and first == said(crash)  # greedy: the same image, the same words
    # What the model is given of the image depends on its pixels: a blank one reads otherwise.
    assert said(blank) != first


def test_the_cache_after_an_image_holds_only_text(seeing_engine: LlamaEngine) -> None:
    """The prompt below shares the image message's first tokens. Its cells where the image's
    embeddings were must be decoded again, not reused as if they held the old text."""
    text = [{"role": "user", "content": QUESTION + "\ndef divide(a, b):\n    return a / b\n\n"
             "# Why does divide(1, 0) fail? Answer in one sentence."}]  # fmt: skip
    prompt = seeing_engine.render_chat(text)
    seeing_engine._llm._ctx.kv_cache_seq_rm(-1, -1, -1)
    seeing_engine._llm.n_tokens = 0
    cold = greedy(seeing_engine, prompt)
    black = data_uri(Image.new("RGB", (64, 64)))
    seeing_engine.describe(vision.image_messages(QUESTION, [black]), max_tokens=4)
    assert greedy(seeing_engine, prompt) == cold


def test_a_task_shows_the_real_model_each_image(seeing_engine: LlamaEngine, tmp_path: Path) -> None:
    root = make_shop(tmp_path / "shop-app")
    (root / "crash.png").write_bytes(screenshots.terminal(shop_traceback(), size=14).image)
    worker = ModelWorker()
    handing = worker.submit(lambda engine, cancel: worker.set_engine(seeing_engine),
                            Priority.COMPLETION)  # fmt: skip
    handing.result()
    events: list[Any] = []
    tasks = TaskManager(root, lambda cancel: WorkerChatModel(worker, cancel),
                        AgentSettings(test_command=TEST_COMMAND), AllowAll(),
                        on_event=lambda state, event: events.append(event))  # fmt: skip
    try:
        task = tasks.start("checkout crashes, see the screenshot", "low",
                           images=parse_images([{"path": "crash.png"}], root))  # fmt: skip
        (image,) = [e for e in _wait_for(events, "image")]
    finally:
        tasks.cancel(task.id)
        tasks.close()
        worker.stop()
    assert "ZeroDivisionError" in image.data["text"]  # read locally, as without a projector
    assert image.data["seen"], image.data  # and the model's own words about the image


def _wait_for(events: list[Any], kind: str, timeout: float = 120) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in events if e.kind == kind]
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"no {kind} event in {timeout} s: {[e.kind for e in events]}")
