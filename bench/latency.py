"""End-to-end inline-completion latency over LSP, against raw llama.cpp on the same prompts.

The file is CPython's own `textwrap.py` (about 490 lines), read from the running interpreter.
For each sample a fresh server opens it (with a unique first line, so no two samples share a
cached prompt), the code after the indentation of a line inside a function is removed, and:

  cold       the first completion there (the model's KV cache holds nothing of this prompt);
  edit       the user types one character that is not what was suggested, and asks again;
  typed      the user types the next characters of the suggestion, one by one.

Baselines, on the exact prompt the server used (from `treellama.showLastPrompt`) and the same
number of generated tokens, measured afterwards in this run with the server stopped:
  raw        llama-cpp-python's Llama in this process, greedy, cold cache;
  server     llama_cpp.server's /v1/completions on loopback, cold cache.

Generation is greedy and the prompt-time cap is off (`max_prompt_ms=0`) so that both sides do
the same work; everything else is the product's default configuration.

    python -m bench.latency [--samples 8] [--model qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import textwrap
import time
from pathlib import Path

from bench.common import LspSession, model_path, post_json, save, summary
from tests.support.servers import llama_cpp_server

THREADS = os.cpu_count() or 1
N_CTX = 4096


def spots(lines: list[str], count: int) -> list[int]:
    """Lines inside function bodies in the second half of the file, spread out."""
    candidates = [
        index
        for index, line in enumerate(lines)
        if index > len(lines) // 3
        and line.startswith("        ")
        and len(line.strip()) > 12
        and not line.strip().startswith(("#", '"', "'"))
    ]
    step = max(1, len(candidates) // count)
    return candidates[::step][:count]


async def measure_lsp(source: str, samples: list[int], model: str, typed_chars: int) -> list[dict]:
    results = []
    root = Path(tempfile.mkdtemp(prefix="treellama-bench-"))
    for number, line in enumerate(samples):
        lines = source.split("\n")
        indent = len(lines[line]) - len(lines[line].lstrip())
        original = lines[line]
        lines[line] = lines[line][:indent]
        text = f"# latency sample {number}\n" + "\n".join(lines)
        row, column = line + 1, indent
        session = LspSession(
            env={
                "TREELLAMA_COMPLETION_MAX_PROMPT_MS": "0",
                "TREELLAMA_MODEL_NAME": model,
                "TREELLAMA_STATS_FILE": str(root / "stats.jsonl"),
            },
        )
        await session.start(root)
        uri = (root / f"textwrap_{number}.py").as_uri()
        session.open(uri, text)
        suggestion, cold_ms = await session.complete(uri, row, column)
        seen = await session.command("treellama.showLastPrompt")
        # One character that differs from the suggestion: the cache cannot answer.
        char = "x" if not suggestion.startswith("x") else "y"
        session.insert(uri, row, column, char)
        edited, edit_ms = await session.complete(uri, row, column + 1)
        typed_ms = []
        first_line = edited.split("\n", 1)[0]  # typing a newline would move to the next line
        for step in range(1, min(typed_chars, len(first_line)) + 1):
            session.insert(uri, row, column + step, edited[step - 1])
            _, elapsed = await session.complete(uri, row, column + 1 + step)
            typed_ms.append(elapsed)
        await session.stop()
        results.append({
            "line": line + 1, "original": original.strip(), "suggestion": suggestion,
            "cold_ms": cold_ms, "edit_ms": edit_ms, "typed_ms": typed_ms,
            "prompt": seen["prompt"], "prompt_tokens": seen["promptTokens"],
            "generated_tokens": seen["generatedTokens"],
        })  # fmt: skip
        typed_range = f"{min(typed_ms):.1f} to {max(typed_ms):.1f} ms" if typed_ms else "none"
        print(f"  sample {number}: line {line + 1}, {seen['promptTokens']} prompt tokens, "
              f"cold {cold_ms:.0f} ms, edit {edit_ms:.0f} ms, typed {typed_range}")  # fmt: skip
    return results


def measure_raw(model: Path, prompts: list[tuple[str, int]]) -> list[float]:
    import llama_cpp

    llm = llama_cpp.Llama(str(model), n_ctx=N_CTX, n_threads=THREADS, n_batch=512, verbose=False)
    times = []
    for prompt, generate in prompts:
        llm.reset()
        started = time.perf_counter()
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        for produced, _ in enumerate(llm.generate(tokens, temp=0.0, top_k=1, reset=True), 1):
            if produced >= max(1, generate):
                break
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_server(model: Path, prompts: list[tuple[str, int]]) -> list[float]:
    times = []
    with llama_cpp_server(model, N_CTX, THREADS) as base:
        for prompt, generate in prompts:
            started = time.perf_counter()
            post_json(f"{base}/v1/completions", {
                "prompt": prompt, "max_tokens": max(1, generate), "temperature": 0.0,
                "top_k": 1, "stream": False,
            })  # fmt: skip
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--typed", type=int, default=5)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    args = parser.parse_args()
    source = Path(textwrap.__file__).read_text()
    samples = spots(source.split("\n"), args.samples)
    print(f"latency: {Path(textwrap.__file__).name} ({len(source.splitlines())} lines), "
          f"{len(samples)} samples, model {args.model}, {THREADS} threads")  # fmt: skip
    lsp = asyncio.run(measure_lsp(source, samples, args.model, args.typed))
    prompts = [(row["prompt"], row["generated_tokens"]) for row in lsp]
    path = model_path(args.model)
    print("  raw llama.cpp on the same prompts...")
    raw = measure_raw(path, prompts)
    print("  llama_cpp.server /v1/completions on the same prompts...")
    server = measure_server(path, prompts)

    cold = summary([row["cold_ms"] for row in lsp])
    edit = summary([row["edit_ms"] for row in lsp])
    typed = summary([t for row in lsp for t in row["typed_ms"]])
    raw_s, server_s = summary(raw), summary(server)
    paired = [row["cold_ms"] / r for row, r in zip(lsp, raw, strict=True)]
    ratios = {
        "cold_lsp_over_raw_p50": round(cold["p50"] / raw_s["p50"], 3),
        "cold_lsp_over_raw_paired_median": round(sorted(paired)[len(paired) // 2], 3),
        "server_over_raw_p50": round(server_s["p50"] / raw_s["p50"], 3),
        "edit_over_cold_p50": round(edit["p50"] / cold["p50"], 3),
        "typed_ahead_p50_ms": typed["p50"],
    }
    print()
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    for label, row in (("LSP cold", cold), ("LSP one-char edit", edit), ("LSP typed-ahead", typed),
                       ("raw llama.cpp", raw_s), ("llama_cpp.server", server_s)):  # fmt: skip
        print(f"{label:24}{row['p50']:>10.1f}{row['p95']:>10.1f}")
    print()
    checks = [
        ("cold LSP / raw llama.cpp (p50)", ratios["cold_lsp_over_raw_p50"], "<= 1.10"),
        ("cold LSP / raw (paired median)", ratios["cold_lsp_over_raw_paired_median"], ""),
        ("llama_cpp.server / raw (p50)", ratios["server_over_raw_p50"], ""),
        ("one-char edit / cold (p50)", ratios["edit_over_cold_p50"], "<= 0.30"),
        ("typed-ahead p50, ms", ratios["typed_ahead_p50_ms"], "<= 10"),
    ]
    for label, value, target in checks:
        print(f"{label:36}{value:8.3f}   {'target ' + target if target else ''}")
    for row in lsp:
        row.pop("prompt")
    out = save(f"latency-{args.model}", {
        "file": "textwrap.py", "threads": THREADS, "model": args.model,
        "lsp_cold_ms": cold, "lsp_edit_ms": edit, "lsp_typed_ms": typed, "raw_ms": raw_s,
        "server_ms": server_s, "ratios": ratios, "samples": lsp,
    })  # fmt: skip
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
