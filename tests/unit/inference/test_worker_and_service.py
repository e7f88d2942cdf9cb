"""The worker's priorities and cancellation, and the completion service, on a scripted engine
(the model's words don't matter here)."""

import threading
import time
from concurrent.futures import wait
from types import SimpleNamespace

import pytest

from inference.backend import Generation
from inference.completion import CompletionRequest, CompletionService, ModelNotReady
from inference.settings import CompletionSettings
from inference.worker import JobCancelled, ModelWorker, Priority


class ScriptedEngine:
    """A scripted model: emits a fixed reply one character per 'token', honouring cancel and
    stop checks. It counts one token per character."""

    info = SimpleNamespace(family="qwen", n_ctx=4096, n_params=494_000_000)

    def __init__(self, reply: str, token_delay: float = 0.0) -> None:
        self.reply = reply
        self.token_delay = token_delay
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text)

    def prefill(self, prompt, is_cancelled, *marker):
        self.prompts.append(prompt)
        return len(prompt)

    def generate(self, prompt, *, max_tokens, is_cancelled, should_stop, **caps):
        self.prompts.append(prompt)
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


def worker_with(engine) -> ModelWorker:
    """A model worker that owns `engine`, as if the worker had loaded it."""
    worker = ModelWorker()
    worker.submit(lambda e, c: worker.set_engine(engine), Priority.LOAD).result(5)
    return worker


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
    engine = ScriptedEngine("return a + b\n\ndef other():\n    pass")
    worker = worker_with(engine)
    service = CompletionService(worker)
    text = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
    settings = CompletionSettings(speculative=False)
    future, _ = service.submit(CompletionRequest("file:///a.py", text, 1, 4), settings)
    completion = future.result(5)
    assert completion.text == "return a + b"
    assert completion.prompt == (
        "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>"
    )
    assert completion.layout == "cursor" and completion.middle == ""
    assert engine.prompts == [completion.prompt]
    assert completion.generation.stop_reason == "stop"  # stopped early, not at max_tokens

    # The same spot again, and then with the first characters typed: no model call.
    again, _ = service.submit(CompletionRequest("file:///a.py", text, 1, 4), settings)
    assert again.result(5).text == "return a + b" and again.result(5).source == "cache"
    typed = text.replace("    \n", "    retu\n", 1)
    ahead, _ = service.submit(CompletionRequest("file:///a.py", typed, 1, 8), settings)
    assert ahead.result(5).text == "rn a + b" and ahead.result(5).source == "cache"
    assert len(engine.prompts) == 1
    worker.stop()


def test_newer_request_for_the_same_document_cancels_the_older():
    engine = ScriptedEngine("x" * 200, token_delay=0.01)
    worker = worker_with(engine)
    service = CompletionService(worker)
    settings = CompletionSettings(max_tokens=200, max_predict_ms=60_000, speculative=False)
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


def test_background_generation_gives_way_to_a_keystroke_and_resumes():
    from inference.background import submit_background_generation

    class YieldingEngine(ScriptedEngine):
        def generate(self, prompt, *, max_tokens, is_cancelled, should_stop, should_yield, **caps):
            self.prompts.append(prompt)
            text = ""
            for char in self.reply[len(prompt) - len("P:") :][:max_tokens]:
                time.sleep(self.token_delay)
                text += char
                if should_yield():
                    return Generation(text, len(prompt), len(text), "yielded", 0.0, 0.0)
            return Generation(text, len(prompt), len(text), "max_tokens", 0.0, 0.0)

    engine = YieldingEngine("abcdefghijklmnopqrstuvwxyz" * 4, token_delay=0.01)
    worker = worker_with(engine)
    order: list[str] = []
    long_job = submit_background_generation(worker, "P:", max_tokens=80)
    long_job.add_done_callback(lambda _: order.append("agent"))
    time.sleep(0.15)
    keystroke = worker.submit(lambda e, c: order.append("keystroke"), Priority.COMPLETION)
    keystroke.result(5)
    result = long_job.result(10)
    assert order == ["keystroke", "agent"]
    assert result.text == engine.reply[:80]  # nothing lost across the pause
    assert result.yields == 1
    assert len(engine.prompts) == 2 and engine.prompts[1] == "P:" + engine.prompts[1][2:]
    assert result.text.startswith(engine.prompts[1][2:])  # resumed after what it had
    worker.stop()


def test_background_work_never_cancels_a_running_request():
    engine = ScriptedEngine("y" * 100, token_delay=0.01)
    worker = worker_with(engine)
    service = CompletionService(worker)
    settings = CompletionSettings(max_tokens=50, max_predict_ms=60_000, speculative=False)
    running, _ = service.submit(CompletionRequest("file:///a.py", "a = ", 0, 4), settings)
    time.sleep(0.05)
    assert service.prefill_last()  # e.g. the user yanked something meanwhile
    assert running.result(5).generation.stop_reason == "max_tokens"
    time.sleep(0.2)
    assert len(engine.prompts) == 2  # the pre-fill ran after the request, not instead of it
    worker.stop()


def test_background_work_for_one_document_gives_way_to_a_request_for_another():
    engine = ScriptedEngine("z" * 300, token_delay=0.01)
    worker = worker_with(engine)
    service = CompletionService(worker)
    settings = CompletionSettings(max_tokens=300, max_lines=1, max_predict_ms=60_000)
    first, _ = service.submit(CompletionRequest("file:///a.py", "a = ", 0, 4), settings)
    first.result(10)  # ... then a speculative job for a.py starts 250 ms later
    time.sleep(0.4)
    started = time.monotonic()
    other, _ = service.submit(
        CompletionRequest("file:///b.py", "b = ", 0, 4), CompletionSettings(max_tokens=5)
    )
    other.result(10)
    # Without giving way it would wait for the 3 s speculative generation to finish.
    assert time.monotonic() - started < 1.0
    worker.stop()


def test_the_cursor_layout_stays_available_as_a_setting():
    engine = ScriptedEngine("return a + b\n")
    service = CompletionService(worker_with(engine))
    text = "def add(a, b):\n    return a\n\nprint(add(1, 2))\n"
    for layout, prompt in (
        ("cursor", "<|fim_prefix|>def add(a, b):\n    return a<|fim_suffix|>\n\nprint(add(1, 2))"
                   "\n<|fim_middle|>"),
        ("line", "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n"
                 "<|fim_middle|>return a"),
    ):  # fmt: skip
        settings = CompletionSettings(speculative=False, cache=False, prompt_layout=layout)
        future, _ = service.submit(CompletionRequest("file:///a.py", text, 1, 12), settings)
        completion = future.result(5)
        assert completion.prompt == prompt
        assert completion.layout == layout


def test_typing_on_a_line_changes_only_the_end_of_the_prompt_and_enter_moves_the_line_up():
    """What makes a keystroke cheap: the prompts before and after it share everything up to
    the cursor's line, in the line layout; after Enter the finished line joins the prefix."""
    engine = ScriptedEngine("x\n")
    service = CompletionService(worker_with(engine))
    settings = CompletionSettings(
        speculative=False, cache=False, context_tokens=0, prompt_layout="line"
    )
    lines = [
        "def f(items):",
        "    total = 0",
        "    for item in items:",
        "        ",
        "    return total",
    ]

    def prompt_for(line_text: str, extra: list[str] | None = None) -> str:
        text = "\n".join(lines[:3] + (extra or []) + [line_text] + lines[4:]) + "\n"
        row = 3 + len(extra or [])
        future, _ = service.submit(
            CompletionRequest("file:///f.py", text, row, len(line_text)), settings
        )
        return future.result(5).prompt

    typed = [prompt_for("        total +"), prompt_for("        total +="),
             prompt_for("        total +")]  # fmt: skip  # forward, then a backspace
    head = typed[0][: typed[0].index("<|fim_middle|>") + len("<|fim_middle|>")]
    assert all(prompt.startswith(head) for prompt in typed)
    assert [prompt[len(head) :] for prompt in typed] == ["total +", "total +=", "total +"]
    after_enter = prompt_for("        ", extra=["        total += item"])
    assert after_enter.endswith("<|fim_middle|>")
    assert "        total += item\n        <|fim_suffix|>" in after_enter


def test_every_millisecond_of_a_completion_is_accounted_for():
    engine = ScriptedEngine("return a + b\n", token_delay=0.002)
    service = CompletionService(worker_with(engine))
    text = "def add(a, b):\n    \n"
    future, _ = service.submit(
        CompletionRequest("file:///a.py", text, 1, 4), CompletionSettings(speculative=False)
    )
    completion = future.result(5)
    timing = completion.timing
    assert timing is not None and timing.total_ms == completion.elapsed_ms
    parts = timing.as_dict()
    assert set(parts) >= {"context_ms", "waited_ms", "fit_ms", "tokenize_ms", "read_ms",
                          "decode_ms", "rest_ms", "read_tokens", "decoded_tokens"}  # fmt: skip
    # The scripted engine reports no model time, so its sleeping shows up as the rest.
    assert timing.rest_ms >= 20
    assert "waited" in timing.describe() and "rest" in timing.describe()


def test_after_code_on_the_line_the_suggestion_completes_that_line_only():
    engine = ScriptedEngine("a + b\n    print(a)\n    return b\n")
    service = CompletionService(worker_with(engine))
    text = "def add(a, b):\n    return \n"
    for one_line, expected in ((True, "a + b"), (False, "a + b\n    print(a)\n    return b")):
        settings = CompletionSettings(speculative=False, cache=False, one_line_after_code=one_line)
        future, _ = service.submit(CompletionRequest("file:///a.py", text, 1, 11), settings)
        assert future.result(5).text == expected
