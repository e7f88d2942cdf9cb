"""Decoding the pipeline's rewrites: N candidates from one shared prompt in one batch against
N sequential generations, and the greedy rewrite with the original as a speculative draft
against plain greedy decoding (tokens per second), on the same prompts, in the same run.

    python -m bench.agent.decoding [--models ...] [--candidates 4] [--suite small|real]

The prompts are the pipeline's own first-round prompts for the 12 agent tasks (the whole file
of each task's located region), so the draft is the code the model rewrites; with --suite real,
the real-repository tasks' buggy functions (docstrings included: real library code).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from agent.localize import Region
from agent.rewrite import prompt
from bench.agent.tasks import TASKS
from bench.common import save
from inference.engine import LlamaEngine
from inference.model_manager import resolve_model
from inference.settings import ModelSettings


def prompts(count: int) -> list[tuple[str, list[dict[str, str]], str, str]]:
    found = []
    for task in TASKS[:count]:
        source = next(name for name in task.files if not name.startswith("test_"))
        code = task.files[source].rstrip("\n")
        tests = "\n".join(text for name, text in task.files.items() if name.startswith("test_"))
        region = Region(source, 0, code.count("\n"), source, "file", 1.0)
        messages, prefix = prompt(task.instruction, region, code, "python", tests)
        found.append((task.name, messages, prefix, code))
    return found


def real_prompts(count: int) -> list[tuple[str, list[dict[str, str]], str, str]]:
    import tempfile
    from pathlib import Path

    from bench.agent import real_repos

    found = []
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-decoding-"))
    for task in real_repos.REAL_TASKS[:count]:
        root = real_repos.build(task, work / task.name)
        first, last, name = real_repos.buggy_function(task)
        lines = (root / task.path).read_text(encoding="utf-8").split("\n")
        code = "\n".join(lines[first : last + 1])
        region = Region(task.path, first, last, name, "function", 1.0)
        messages, prefix = prompt(task.instruction, region, code, "python")
        found.append((task.name, messages, prefix, code))
    return found


def stop(text: str) -> bool:
    return "```" in text


def measure(engine: LlamaEngine, n: int, count: int, suite: str = "small") -> dict[str, Any]:
    rows = []
    for name, messages, prefix, code in (real_prompts if suite == "real" else prompts)(count):
        text = engine.render_chat(messages) + prefix
        never = lambda: False  # noqa: E731
        engine.generate(text, max_tokens=1, is_cancelled=never)  # the prompt, cached for all
        started = time.monotonic()
        plain = engine.generate(text, max_tokens=600, is_cancelled=never, should_stop=stop)
        plain_s = time.monotonic() - started
        started = time.monotonic()
        (spec,), stats = engine.candidates(
            text, [0.0], max_tokens=600, is_cancelled=never, should_stop=stop, draft=code
        )
        spec_s = time.monotonic() - started
        temperatures = [0.0] + [0.8] * (n - 1)
        started = time.monotonic()
        engine.candidates(text, temperatures, max_tokens=400, is_cancelled=never,
                          should_stop=stop, seed=1, speculate=False)  # fmt: skip
        batched_s = time.monotonic() - started
        started = time.monotonic()
        for i, temperature in enumerate(temperatures):
            engine.candidates(text, [temperature], max_tokens=400, is_cancelled=never,
                              should_stop=stop, seed=1 + i, speculate=False)  # fmt: skip
        sequential_s = time.monotonic() - started
        rows.append({
            "task": name, "tokens": plain.generated_tokens,
            "plain_tok_s": round(plain.generated_tokens / plain_s, 1),
            "speculative_tok_s": round(spec.generated_tokens / spec_s, 1),
            "identical": spec.text == plain.text,
            "draft_accepted": round(stats.accepted / stats.drafted, 2) if stats.drafted else 0,
            "batched_s": round(batched_s, 2), "sequential_s": round(sequential_s, 2),
        })  # fmt: skip
        print(f"  {name:14} plain {rows[-1]['plain_tok_s']} tok/s, speculative "
              f"{rows[-1]['speculative_tok_s']} tok/s (identical {rows[-1]['identical']}); "
              f"{n} candidates batched {batched_s:.1f} s vs sequential {sequential_s:.1f} s",
              flush=True)  # fmt: skip
    speedups = [r["speculative_tok_s"] / r["plain_tok_s"] for r in rows]
    return {
        "candidates": n,
        "speculative_vs_plain": round(statistics.median(speedups), 2),
        "batched_vs_sequential": round(
            sum(r["batched_s"] for r in rows) / sum(r["sequential_s"] for r in rows), 2
        ),
        "greedy_identical": sum(r["identical"] for r in rows),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=len(TASKS))
    parser.add_argument("--suite", default="small", choices=["small", "real"])
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for model in args.models:
        path = resolve_model(ModelSettings(name=model)).path
        engine = LlamaEngine(path, ModelSettings(name=model))
        print(f"{model}:")
        results[model] = measure(engine, args.candidates, args.tasks, args.suite)
        r = results[model]
        print(f"{model}: speculative {r['speculative_vs_plain']}x plain (median), "
              f"{args.candidates} batched candidates {r['batched_vs_sequential']}x sequential, "
              f"greedy identical {r['greedy_identical']}/{len(r['rows'])}", flush=True)  # fmt: skip
    name = "agent-decoding" if args.suite == "small" else "agent-decoding-real"
    print(f"saved {save(name, results)}")


if __name__ == "__main__":
    main()
