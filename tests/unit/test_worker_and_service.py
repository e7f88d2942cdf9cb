"""The worker's priorities and cancellation, and the completion service, on a scripted engine
(the model's words don't matter here)."""

import threading
import time
from concurrent.futures import wait

import pytest

from inference.completion import CompletionRequest, CompletionService, ModelNotReady
from inference.engine import Generation
from inference.settings import CompletionSettings
from inference.worker import JobCancelled, ModelWorker, Priority


class ScriptedEngine:
    """Emits a fixed reply one character per 'token', honouring cancel and stop checks."""

    info = None

    def __init__(self, reply: str, token_delay: float = 0.0) -> None:
        self.reply = reply
        self.token_delay = token_delay
        self.prompts: list[str] = []

    def tokenize(self, text: str) -> list[int]:
        self.prompts.append(text)
        return [ord(c) for c in text]

    def generate(self, prompt, *, max_tokens, deadline, is_cancelled, should_stop):
        text, reason = "", "max_tokens"
        for char in self.reply[:max_tokens]:
            time.sleep(self.token_delay)
            if is_cancelled():
                reason = "cancelled"
                break
            text += char
            if should_stop(text):
                reason = "stop"
                break
        return Generation(text, len(prompt), len(text), reason, 0.0, 0.0)


def test_higher_priority_jobs_run_first():
    worker = ModelWorker()
    gate = threading.Event()
    order: list[str] = []
    worker.submit(lambda e, c: gate.wait(5), Priority.BACKGROUND)
    jobs = [
        worker.submit(lambda e, c, n=name: order.append(n), priority)
        for name, priority in [
            ("agent", Priority.BACKGROUND),
            ("prefetch", Priority.PREFETCH),
            ("keystroke", Priority.COMPLETION),
        ]
    ]
    gate.set()
    wait(jobs, timeout=5)
    assert order == ["keystroke", "prefetch", "agent"]
    worker.stop()


def test_cancelled_before_start_never_runs():
    worker = ModelWorker()
    gate = threading.Event()
    worker.submit(lambda e, c: gate.wait(5), Priority.COMPLETION)
    cancel = threading.Event()
    ran = []
    future = worker.submit(lambda e, c: ran.append(1), Priority.COMPLETION, cancel)
    cancel.set()
    gate.set()
    with pytest.raises(JobCancelled):
        future.result(5)
    assert ran == []
    worker.stop()


def test_service_builds_a_fim_prompt_and_cleans_the_output():
    worker = ModelWorker()
    engine = ScriptedEngine("return a + b\n\ndef other():\n    pass")
    worker.submit(lambda e, c: worker.set_engine(engine), Priority.LOAD).result(5)
    service = CompletionService(worker)
    text = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
    future, _ = service.submit(CompletionRequest("file:///a.py", text, 1, 4), CompletionSettings())
    completion = future.result(5)
    assert completion.text == "return a + b"
    assert completion.prompt == (
        "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>"
    )
    assert completion.generation.stop_reason == "stop"  # stopped early, not at max_tokens
    worker.stop()


def test_newer_request_for_the_same_document_cancels_the_older():
    worker = ModelWorker()
    engine = ScriptedEngine("x" * 200, token_delay=0.01)
    worker.submit(lambda e, c: worker.set_engine(engine), Priority.LOAD).result(5)
    service = CompletionService(worker)
    settings = CompletionSettings(max_tokens=200)
    first, _ = service.submit(CompletionRequest("file:///a.py", "a = ", 0, 4), settings)
    time.sleep(0.1)
    second, _ = service.submit(CompletionRequest("file:///a.py", "a = 1", 0, 5), settings)
    assert first.result(5).generation.stop_reason == "cancelled"
    assert second.result(5).generation.stop_reason == "max_tokens"
    worker.stop()


def test_no_engine_is_a_clear_error():
    worker = ModelWorker()
    service = CompletionService(worker)
    future, _ = service.submit(CompletionRequest("u", "x", 0, 1), CompletionSettings())
    with pytest.raises(ModelNotReady):
        future.result(5)
    worker.stop()
