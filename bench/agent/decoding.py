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
from agent.rewrite import Section, prompt
from bench.agent.tasks import TASKS
from bench.common import save
from inference.candidates import Speculate
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
        sections = (Section("The tests that must pass", tests),)
        messages, prefix = prompt(task.instruction, region, code, "python", sections)
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


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _speculative(engine: LlamaEngine, text: str, code: str) -> dict[str, Any]:
    never = lambda: False  # noqa: E731
    plain, plain_s = _timed(lambda: engine.generate(
        text, max_tokens=600, is_cancelled=never, should_stop=stop))  # fmt: skip
    ((spec,), stats), spec_s = _timed(lambda: engine.candidates(
        text, [0.0], max_tokens=600, is_cancelled=never, should_stop=stop, draft=code))  # fmt: skip
    return {
        "tokens": plain.generated_tokens,
        "plain_tok_s": round(plain.generated_tokens / plain_s, 1),
        "speculative_tok_s": round(spec.generated_tokens / spec_s, 1),
        "identical": spec.text == plain.text,
        "draft_accepted": round(stats.accepted / stats.drafted, 2) if stats.drafted else 0,
    }


def _batching(engine: LlamaEngine, text: str, code: str, n: int) -> dict[str, Any]:
    """N candidates batched, sequential, and batched with the draft for the greedy one or
    for all: how the pipeline's rounds are best decoded."""
    never = lambda: False  # noqa: E731
    temperatures = [0.0] + [0.8] * (n - 1)

    def batched(speculate: Speculate) -> float:
        return _timed(lambda: engine.candidates(
            text, temperatures, max_tokens=400, is_cancelled=never, should_stop=stop, seed=1,
            draft=code, speculate=speculate))[1]  # fmt: skip

    row = {"batched_s": batched("none")}
    started = time.monotonic()
    for i, temperature in enumerate(temperatures):
        engine.candidates(text, [temperature], max_tokens=400, is_cancelled=never,
                          should_stop=stop, seed=1 + i, speculate="none")  # fmt: skip
    row["sequential_s"] = time.monotonic() - started
    row["batched_greedy_draft_s"] = batched("greedy")
    row["batched_all_drafts_s"] = batched("all")
    return {key: round(value, 2) for key, value in row.items()}


def measure(
    engine: LlamaEngine, n: int, count: int, suite: str = "small",
    parts: tuple[str, ...] = ("speculative", "batching"),
) -> dict[str, Any]:  # fmt: skip
    rows = []
    for name, messages, prefix, code in (real_prompts if suite == "real" else prompts)(count):
        text = engine.render_chat(messages) + prefix
        engine.generate(text, max_tokens=1, is_cancelled=lambda: False)  # cached for all
        row: dict[str, Any] = {"task": name}
        if "speculative" in parts:
            row |= _speculative(engine, text, code)
            print(f"  {name:22} plain {row['plain_tok_s']} tok/s, speculative "
                  f"{row['speculative_tok_s']} tok/s (identical {row['identical']}, "
                  f"{row['draft_accepted']:.0%} of the draft accepted)", flush=True)  # fmt: skip
        if "batching" in parts:
            row |= _batching(engine, text, code, n)
            print(f"  {name:22} {n} candidates batched {row['batched_s']:.1f} s vs "
                  f"sequential {row['sequential_s']:.1f} s; with the draft for the greedy one "
                  f"{row['batched_greedy_draft_s']:.1f} s, for all "
                  f"{row['batched_all_drafts_s']:.1f} s", flush=True)  # fmt: skip
        rows.append(row)
    result: dict[str, Any] = {"candidates": n, "rows": rows}
    if "speculative" in parts:
        speedups = [r["speculative_tok_s"] / r["plain_tok_s"] for r in rows]
        result["speculative_vs_plain"] = round(statistics.median(speedups), 2)
        result["greedy_identical"] = sum(r["identical"] for r in rows)
    if "batching" in parts:
        total = sum(r["batched_s"] for r in rows)
        result["batched_vs_sequential"] = round(total / sum(r["sequential_s"] for r in rows), 2)
        for key in ("batched_greedy_draft_s", "batched_all_drafts_s"):
            result[key.removesuffix("_s") + "_vs_batched"] = round(
                sum(r[key] for r in rows) / total, 2
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=len(TASKS))
    parser.add_argument("--suite", default="small", choices=["small", "real"])
    parser.add_argument("--parts", nargs="+", default=["speculative", "batching"],
                        choices=["speculative", "batching"])  # fmt: skip
    parser.add_argument("--save", default="", help="results name (default by suite)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for model in args.models:
        path = resolve_model(ModelSettings(name=model)).path
        engine = LlamaEngine(path, ModelSettings(name=model))
        print(f"{model}:")
        results[model] = r = measure(
            engine, args.candidates, args.tasks, args.suite, tuple(args.parts)
        )
        if "speculative_vs_plain" in r:
            print(f"{model}: speculative {r['speculative_vs_plain']}x plain (median), greedy "
                  f"identical {r['greedy_identical']}/{len(r['rows'])}", flush=True)  # fmt: skip
        if "batched_vs_sequential" in r:
            print(f"{model}: {args.candidates} batched candidates "
                  f"{r['batched_vs_sequential']}x sequential; with the draft for the greedy "
                  f"one {r['batched_greedy_draft_vs_batched']}x batched, for all "
                  f"{r['batched_all_drafts_vs_batched']}x", flush=True)  # fmt: skip
    name = args.save or ("agent-decoding" if args.suite == "small" else "agent-decoding-real")
    print(f"saved {save(name, results)}")


if __name__ == "__main__":
    main()
