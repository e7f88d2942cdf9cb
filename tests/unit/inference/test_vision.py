"""The vision paths: an OpenAI-style endpoint gets the image as an `image_url` part beside
its OCR text (a scripted endpoint on loopback: its words don't matter, what it is sent does),
and a task's model that sees images is shown each one. A projector that is not there is a
clear error, and doctor names the path that is active."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agent.approvals import AllowAll
from agent.images import ImageReading, parse_images
from agent.model import ScriptedAgentModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from inference import vision
from inference.doctor import check_images
from inference.http_backend import HttpEngine
from inference.settings import BackendSettings, ModelSettings
from tests.support import screenshots
from tests.support.projects import TEST_COMMAND, make_shop, shop_traceback

SAID = "A terminal: ZeroDivisionError in apply_discount, shop/pricing.py line 17."


class ScriptedVisionEndpoint(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer({"data": [{"id": "a-vision-model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        self._answer({"choices": [{"message": {"role": "assistant", "content": SAID}}]})


@pytest.fixture
def endpoint() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedVisionEndpoint)
    ScriptedVisionEndpoint.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_http_path_sends_the_image_as_an_image_url_part(endpoint: str) -> None:
    engine = HttpEngine(BackendSettings(kind="http", url=endpoint, api="openai-chat",
                                        model="a-vision-model", vision=True))  # fmt: skip
    assert engine.sees_images
    reading = ImageReading("crash.png", 3, 1, 1, "PNG", ("ZeroDivisionError",), data=b"\x89PN")
    said = engine.describe(vision.image_messages(reading.question("fix it"), [reading.data_uri()]))
    assert said == SAID
    (body,) = ScriptedVisionEndpoint.bodies
    parts = body["messages"][0]["content"]
    assert parts[0]["type"] == "text" and "ZeroDivisionError" in parts[0]["text"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}
    assert body["model"] == "a-vision-model" and body["stream"] is False


class SeeingScriptedModel(ScriptedAgentModel):
    """A scripted agent model that also takes images: it records what it was shown."""

    sees_images = True
    shown: list[Any]

    def describe(self, messages: list[dict[str, Any]]) -> str:
        self.shown.append(messages)
        return SAID


def test_a_task_shows_each_image_to_a_model_that_sees(tmp_path: Path) -> None:
    root = make_shop(tmp_path / "shop-app")
    (root / "crash.png").write_bytes(screenshots.terminal(shop_traceback()).image)
    model = SeeingScriptedModel([])
    model.shown = []
    events: list[Any] = []
    tasks = TaskManager(root, lambda cancel: model,
                        AgentSettings(test_command=TEST_COMMAND, strategy="loop"), AllowAll(),
                        on_event=lambda state, e: events.append(e))  # fmt: skip
    images = parse_images([{"path": "crash.png"}], root)
    tasks.wait(tasks.start("fix the crash", "low", images=images).id, 60)
    tasks.close()
    (messages,) = model.shown
    parts = messages[0]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "fix the crash" in parts[0]["text"]
    (image,) = [e for e in events if e.kind == "image"]
    assert image.data["seen"] == SAID
    assert f"What the image crash.png shows: {SAID}" in model.prompts[0][-1]["content"]


def test_a_missing_projector_is_a_clear_error_and_doctor_names_the_path(tmp_path: Path) -> None:
    missing = ModelSettings(path=str(tmp_path / "vl.gguf"), mmproj=str(tmp_path / "mmproj.gguf"))
    with pytest.raises(vision.VisionUnavailable, match="no projector file"):
        vision.chat_handler(missing)
    assert vision.chat_handler(ModelSettings()) is None
    checks = {c.name: c for c in check_images(missing, BackendSettings())}
    assert not checks["image vision"].ok and "vision in-process" in checks["image vision"].detail
    over_http = BackendSettings(kind="http", url="http://127.0.0.1:8080", vision=True)
    checks = {c.name: c for c in check_images(ModelSettings(), over_http)}
    assert checks["image vision"].ok and "image_url" in checks["image vision"].detail
    assert checks["image OCR"].ok and checks["image OCR"].detail.startswith("tesseract 5")
