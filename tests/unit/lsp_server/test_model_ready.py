"""What a feature that needs the model says when it cannot have one: every state of the model
has words and a fix, and the shared check in the server waits for a load in progress."""

from __future__ import annotations

import asyncio
import threading

import pytest

from inference.model_manager import ModelManager, ModelState, ModelStatus
from inference.settings import ModelSettings
from inference.worker import ModelWorker
from lsp_server.server import RequestFailed, TreellamaServer
from tests.support.message_guard import empty_messages


@pytest.mark.parametrize("state", list(ModelState))
def test_every_model_state_names_a_problem_and_a_fix(state):
    for status in (ModelStatus(state), ModelStatus(state, "qwen"), ModelStatus(state, "", "x")):
        problem = status.problem()
        message, _, fix = problem.partition(". Fix: ")
        assert message.strip() and fix.strip(), problem
        assert not empty_messages([f"treellama: {problem}"])


def test_the_guard_catches_the_empty_messages_users_saw():
    assert empty_messages(["treellama: . Fix: ", "treellama: no edit. Fix:", "", "   "]) == [
        "treellama: . Fix: ",
        "treellama: no edit. Fix:",
        "",
        "   ",
    ]
    assert empty_messages(["treellama: model x is not installed. Fix: run `install`"]) == []


def test_a_missing_model_says_which_and_how_to_get_it(tmp_path):
    worker = ModelWorker()
    manager = ModelManager(worker)
    status = manager.load(ModelSettings(path=str(tmp_path / "nope.gguf"))).result(timeout=30)
    assert status.state is ModelState.UNAVAILABLE
    assert "nope.gguf" in status.problem() and "model.path" in status.problem()
    worker.stop()


class _SlowEngine:
    info = "the engine's info"


def test_the_model_ready_check_waits_for_a_load_in_progress():
    """The bug: codeAction/resolve right after start answered `treellama: . Fix: `."""
    release = threading.Event()

    def factory(path, settings):
        release.wait(10)
        return _SlowEngine()

    async def scenario(tmp_path_model: str):
        server = TreellamaServer()
        server.models = ModelManager(server.worker, engine_factory=factory)
        server.models.load(ModelSettings(path=tmp_path_model))
        waiting = asyncio.ensure_future(server.model_ready())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # still loading: it waits instead of failing
        release.set()
        return await asyncio.wait_for(waiting, 10)

    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".gguf") as model:
        assert asyncio.run(scenario(model.name)) == "the engine's info"


def test_no_model_at_all_is_a_clear_error():
    async def scenario():
        server = TreellamaServer()
        with pytest.raises(RequestFailed) as raised:
            await server.model_ready()
        return str(raised.value)

    message = asyncio.run(scenario())
    assert "no model has been loaded yet" in message and "Fix: " in message
    assert not empty_messages([message])
