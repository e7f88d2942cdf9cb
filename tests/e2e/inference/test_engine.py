"""The llama.cpp engine with the real default model."""

from __future__ import annotations

import threading

import pytest

from inference.engine import LlamaEngine
from inference.fim import ContextChunk, FimInput, instruct_messages, instruct_reply_start, qwen

pytestmark = pytest.mark.e2e

SUFFIX = "\n\n" + "".join(f"def other_{k}(y):\n    return y + {k}\n\n" for k in range(12))
CHUNKS = [
    ContextChunk(
        f"mod{i}.py", "".join(f"def helper_{i}_{j}(x):\n    return x * {j}\n\n" for j in range(8))
    )
    for i in range(3)
]


def generate(engine: LlamaEngine, prompt: str, tokens: int = 10, **kwargs):
    return engine.generate(
        prompt,
        max_tokens=tokens,
        is_cancelled=lambda: False,
        core_marker="<|fim_prefix|>",
        **kwargs,
    )


def cold(engine: LlamaEngine, prompt: str, tokens: int = 10):
    engine._llm._ctx.kv_cache_seq_rm(-1, -1, -1)
    engine._llm.n_tokens = 0
    return generate(engine, prompt, tokens)


def test_family_and_fim_tokens_are_detected(engine):
    assert engine.info.family == "qwen"
    assert engine.info.has_fim


def test_qwen_prompt_tokenizes_markers_as_single_special_tokens(engine):
    prompt = qwen(FimInput("a = 1\n", "\nb = 2\n", (ContextChunk("u.py", "x = 0"),), "m.py", "r"))
    tokens = engine.tokenize(prompt)
    for marker in (
        "<|repo_name|>",
        "<|file_sep|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    ):
        (marker_id,) = engine.tokenize(marker)
        assert marker_id in tokens
    assert tokens[0] == engine.tokenize("<|repo_name|>")[0]
    assert tokens[-1] == engine.info.fim_tokens["middle"]
    # Spelled without special parsing, a marker would be several ordinary tokens.
    assert len(engine._llm.tokenize(b"<|fim_prefix|>", special=False)) > 1


def test_typing_reuses_the_prefix_and_matches_a_cold_run(engine, second_engine):
    before = "def fibonacci(n):\n    "
    generate(engine, qwen(FimInput(before, SUFFIX, tuple(CHUNKS), "main.py", "demo")))
    for typed in ("i", "if n", "if n < 2"):
        prompt = qwen(FimInput(before + typed, SUFFIX, tuple(CHUNKS), "main.py", "demo"))
        warm = generate(engine, prompt)
        assert warm.reused_tokens > warm.prompt_tokens / 2
        assert warm.evaluated_tokens < warm.prompt_tokens / 2
        assert warm.text == cold(second_engine, prompt).text


def test_dropping_a_context_chunk_shifts_the_rest_instead_of_reevaluating(engine, second_engine):
    before = "def fibonacci(n):\n    if n < 2"
    generate(engine, qwen(FimInput(before, SUFFIX, tuple(CHUNKS), "main.py", "demo")))
    prompt = qwen(FimInput(before, SUFFIX, tuple(CHUNKS[1:]), "main.py", "demo"))
    warm = generate(engine, prompt)
    assert warm.evaluated_tokens <= 2  # everything else was kept and shifted
    assert warm.text == cold(second_engine, prompt).text


def test_cancellation_and_prompt_time_cap_stop_prompt_processing(engine):
    prompt = qwen(FimInput("x = 1\n" * 300, "\n", (), "big.py", "demo"))
    engine._llm._ctx.kv_cache_seq_rm(-1, -1, -1)
    engine._llm.n_tokens = 0
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    stopped = engine.generate(prompt, max_tokens=8, is_cancelled=cancel.is_set)
    assert stopped.stop_reason == "cancelled"
    assert stopped.evaluated_tokens < stopped.prompt_tokens
    capped = engine.generate(prompt, max_tokens=8, is_cancelled=lambda: False, max_prompt_s=0.3)
    assert capped.stop_reason == "prompt_timeout"
    # What was evaluated stays cached: the next call picks up from there.
    resumed = generate(engine, prompt, tokens=8)
    assert resumed.reused_tokens >= stopped.evaluated_tokens + capped.evaluated_tokens - 1


def test_instruction_fallback_renders_the_chat_template_and_completes(engine):
    fim = FimInput("def add(a, b):\n    return", "\n\nprint(add(1, 2))\n", path="add.py")
    chat = engine.render_chat(instruct_messages(fim, "python"))
    assert chat.startswith("<|im_start|>system\n") and chat.endswith("<|im_start|>assistant\n")
    result = engine.generate(
        chat + instruct_reply_start(fim, "python"),
        max_tokens=16,
        is_cancelled=lambda: False,
        should_stop=lambda text: "```" in text,
    )
    assert "a + b" in result.text.split("```")[0]


def test_a_new_prompt_drops_every_sequence_s_cells_after_what_it_keeps(engine):
    """The candidates' sequences too: llama-cpp-python's kv_cache_seq_rm reads seq_id -1 as 0."""
    import llama_cpp

    ctx = engine._llm._ctx
    old = engine.tokenize("def f(x):\n    return x\n" * 20)
    engine._evaluate_prompt(old, lambda: False, None)
    ctx.kv_cache_seq_cp(0, 3, 0, len(old))
    try:
        assert llama_cpp.llama_memory_seq_pos_max(ctx.memory, 3) == len(old) - 1
        engine._evaluate_prompt(old[:10] + engine.tokenize("class Other:\n    pass\n"),
                                lambda: False, None)  # fmt: skip
        assert llama_cpp.llama_memory_seq_pos_max(ctx.memory, 3) == 9
    finally:
        ctx.kv_cache_seq_rm(3, -1, -1)


def line_prompt(typed: str, above: str = "def fibonacci(n):\n") -> str:
    """The line layout (inference.fim): the cursor's line after the middle marker."""
    return qwen(FimInput(above, SUFFIX, tuple(CHUNKS), "main.py", "demo", middle=typed))


def test_typing_on_the_line_reads_only_the_line_and_matches_a_cold_run(engine, second_engine):
    generate(engine, line_prompt("    "), heal="    ")
    # Forward, forward, a backspace, a character the suggestion did not have.
    for typed in ("    i", "    if n", "    if ", "    if x"):
        warm = generate(engine, line_prompt(typed), heal=typed)
        assert warm.evaluated_tokens <= len(engine.tokenize(typed)) + 1, warm
        assert warm.reused_tokens >= warm.prompt_tokens - len(engine.tokenize(typed)) - 1
        reference = second_engine
        reference._llm._ctx.kv_cache_seq_rm(-1, -1, -1)
        reference._llm.n_tokens = 0
        assert warm.text == generate(reference, line_prompt(typed), heal=typed).text


def test_healing_spells_the_line_again_instead_of_adding_to_it(engine):
    """Without healing the prompt ends on a four-space token that the model never saw before
    a word, and the 0.5B answers " return" (five spaces in all)."""
    above = "def add(a, b):\n"
    prompt = qwen(FimInput(above, "\n\nprint(add(1, 2))\n", middle="    "))
    healed = generate(engine, prompt, tokens=8, heal="    ")
    assert healed.text.startswith("return"), healed.text
    raw = generate(engine, prompt, tokens=8)
    assert raw.text.startswith(" "), raw.text  # what healing prevents


def test_a_speculative_generation_leaves_the_cache_as_it_was(engine, second_engine):
    prompt = line_prompt("    if n < 2")
    first = generate(engine, prompt)
    # The follow-up after a two-line suggestion: the prefix grows, every later token moves.
    ahead = line_prompt("        ", above="def fibonacci(n):\n    if n < 2:\n        return n\n")
    spec = generate(engine, ahead, keep_cache=True)
    assert spec.evaluated_tokens > 100  # it read the suffix again, in its own cells
    again = generate(engine, prompt)
    assert again.evaluated_tokens <= 1  # the last token only: its logits pick the first token
    assert again.text == first.text
    assert spec.text == cold(second_engine, ahead).text


def test_when_the_window_moves_down_the_prefix_keeps_its_cells_and_the_suffix_is_read(
    engine, second_engine
):
    body = "".join(f"def step_{k}(x):\n    return x * {k} + 1\n\n" for k in range(30))
    first = qwen(FimInput(body + "def f(n):\n    ", SUFFIX, middle="return"))
    generate(engine, first, heal="return", prefix_end_marker="<|fim_suffix|>")
    # Sixteen lines later: the prefix lost its first lines and gained the finished one.
    moved = body.split("\n", 16)[16] + "def f(n):\n    return n\n    "
    prompt = qwen(FimInput(moved, SUFFIX, middle=""))
    warm = generate(engine, prompt, prefix_end_marker="<|fim_suffix|>")
    suffix_tokens = len(engine.tokenize(SUFFIX))
    assert warm.evaluated_tokens <= suffix_tokens + 20, warm  # not the whole prefix again
    assert warm.reused_tokens > len(engine.tokenize(moved)) - 20
    # The moved cells saw sixteen more lines than the prompt now holds, so the greedy answer
    # may differ from a cold run's (llama-server's cache_reuse makes the same trade); what it
    # must not do is read the old suffix's cells as prefix, which the fence prevents.
    assert warm.stop_reason in ("eog", "max_tokens")


def test_asked_for_suggestions_after_a_keystroke_never_read_stale_suffix_cells(
    engine, second_engine
):
    """The cursor layout: a keystroke changes the prefix's end, so the suffix's cells are
    stale; the batch must read them again (as generate does), not move them into place."""
    markers = {"core_marker": "<|fim_prefix|>", "prefix_end_marker": "<|fim_suffix|>"}
    before = "def fibonacci(n):\n    if n < 2"
    generate(engine, qwen(FimInput(before, SUFFIX, tuple(CHUNKS), "main.py", "demo")))
    prompt = qwen(FimInput(before + ":", SUFFIX, tuple(CHUNKS), "main.py", "demo"))
    ask = {"max_tokens": 10, "is_cancelled": lambda: False, **markers}
    warm = engine.suggestions(prompt, [0.0, 0.7, 0.7], **ask)
    assert warm[0].evaluated_tokens > len(engine.tokenize(SUFFIX)) - 5  # the suffix, again
    second_engine._llm._ctx.kv_cache_seq_rm(-1, -1, -1)
    second_engine._llm.n_tokens = 0
    assert warm[0].text == second_engine.suggestions(prompt, [0.0, 0.7, 0.7], **ask)[0].text
