"""Flash attention on and off on the CPU, on the same prompt, in the same run: what
`flash_attn = "auto"` should mean when no layer is offloaded to a GPU.

The prompt is CPython's own `textwrap.py` (its first 1,600 tokens). For each mode a fresh engine:
  prompt   evaluates the whole prompt cold;
  decode   generates 32 tokens greedily after it (one token a step: completion, the greedy
           candidate alone);
  edit     one token inserted 300 tokens before the end, the tail read again, 32 tokens;
  batch    one decode call of k tokens at the end of the prompt, all with logits (k = 4: a
           round's candidates side by side; k = 16 and 64: a draft being verified).

    python -m bench.flash_attention [--models ...] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.common import save
from inference.engine import LlamaEngine
from inference.model_manager import resolve_model
from inference.settings import ModelSettings

PROMPT_TOKENS = 1600
BATCH_SIZES = (4, 16, 64)
never = lambda: False  # noqa: E731


def _seconds(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _batch_ms(engine: LlamaEngine, prompt: list[int], k: int, repeats: int) -> float:
    """The median time of one llama.cpp decode of k tokens after the prompt (sequence 0)."""
    import llama_cpp
    from llama_cpp import _internals

    ctx = engine._llm._ctx
    batch = _internals.LlamaBatch(n_tokens=max(k, 8), embd=0, n_seq_max=1)
    times = []
    for _ in range(repeats):
        batch.batch.n_tokens = k
        for i in range(k):
            batch.batch.token[i] = prompt[i]
            batch.batch.pos[i] = len(prompt) + i
            batch.batch.n_seq_id[i] = 1
            batch.batch.seq_id[i][0] = 0
            batch.batch.logits[i] = True
        times.append(_seconds(lambda: ctx.decode(batch)))
        llama_cpp.llama_memory_seq_rm(ctx.memory, 0, len(prompt), -1)
    return statistics.median(times) * 1000


def measure(model: str, mode: str, repeats: int) -> dict[str, float]:
    settings = ModelSettings(name=model, flash_attn=mode)
    engine = LlamaEngine(resolve_model(settings).path, settings)
    source = Path(textwrap.__file__).read_text(encoding="utf-8")
    prompt = engine.tokenize(source)[:PROMPT_TOKENS]
    text = engine._llm.detokenize(prompt).decode("utf-8", errors="ignore")
    prompt = engine.tokenize(text)
    row = {"prompt_s": _seconds(lambda: engine._evaluate_prompt(prompt, never, None))}
    row["decode_ms_per_token"] = 1000 * _seconds(lambda: engine.generate(
        text, max_tokens=32, is_cancelled=never, should_stop=lambda t: False)) / 32  # fmt: skip
    edited = prompt[:-300] + engine.tokenize(" x") + prompt[-300:]
    edited_text = engine._llm.detokenize(edited).decode("utf-8", errors="ignore")
    row["edit_s"] = _seconds(lambda: engine.generate(
        edited_text, max_tokens=32, is_cancelled=never, should_stop=lambda t: False))  # fmt: skip
    engine._evaluate_prompt(prompt, never, None)
    for k in BATCH_SIZES:
        row[f"batch_{k}_ms"] = _batch_ms(engine, prompt, k, repeats)
    return {key: round(value, 3) for key, value in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for model in args.models:
        rows = {mode: measure(model, mode, args.repeats) for mode in ("on", "off")}
        ratios = {key: round(rows["off"][key] / rows["on"][key], 2) for key in rows["on"]}
        results[model] = {**rows, "off_vs_on": ratios}
        for key in rows["on"]:
            print(f"{model}: {key:20} on {rows['on'][key]:9.3f}  off {rows['off'][key]:9.3f}  "
                  f"off/on {ratios[key]:.2f}", flush=True)  # fmt: skip
    print(f"saved {save('flash-attention', results)}")


if __name__ == "__main__":
    main()
