"""What a keystroke costs over LSP, in each prompt layout, against the physical limit.

Two real files: CPython's own `textwrap.py` (Python, about 490 lines, read from the running
interpreter) and semver's `classes/range.js` (JavaScript, about 580 lines, as pinned in
editors/vscode/package-lock.json; `make vscode` installs it). For each sample a fresh server
opens the file with one line inside a function emptied to its indentation, and the steps an
editor user takes are timed from the request to the answer, as an editor sees them:

  open        the first suggestion, asked for right after didOpen (the cache is empty);
  cold        the first suggestion after jumping to another function in the open file;
  rested      the same after a jump, with the cursor left to rest there for REST_S first
              (the plugins' treellama/didRestCursor lets the server read the prompt meanwhile);
  diverge     the user types the line's real code: a character the suggestion did not
              predict goes to the model,
  continue    and one it predicted is answered by the typed-ahead cache;
  backspace   the last character deleted again;
  accept      the next suggestion after taking the whole one (the speculative follow-up);
  enter       Enter (with the indentation an editor adds), then
  newline     the first character of the next line's real code;
  one, three  its second character, asked for 1 suggestion (typing), then the same prompt
              asked for 3 (Alt+]).

Before each keystroke the user pauses THINK_S, so the speculative follow-up has started and
must give way, as it must while someone types. The layouts ("line": the cursor's line after
the middle marker; "cursor": the prompt split at the cursor, the layout before) run in the same
run, on the same spots. Generation is greedy and the prompt-time cap is off
(`max_prompt_ms = 0`), so that a cold prompt is measured whole; everything else is default.

The physical limit of each keystroke is the prompt tokens it re-read at the prompt rate plus the
tokens it decoded at the decode rate, both measured in this run with llama-cpp-python alone on
the same prompts (from `treellama.showLastPrompt`).

    python -m bench.latency [--samples 4] [--model qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import LspSession, model_path, save, summary
from tests.support.paths import ROOT

THREADS = os.cpu_count() or 1
N_CTX = 4096
THINK_S = 0.4
REST_S = 5.0
ACCEPT_PAUSE_S = 1.5
TYPED_CHARS = 8  # of the emptied line's real code
LAYOUTS = ("cursor", "line")
# The keystrokes on a line that the model answers (the typed-ahead cache answers "continue",
# and a backspace to a place already suggested for): what a user waits for while typing.
KEYSTROKES = ("diverge", "newline", "one")
CACHED_MS = 30.0
STEPS = ("open", "cold", "rested", "diverge", "continue", "backspace", "accept", "enter",
         "newline", "one", "three")  # fmt: skip


@dataclass(frozen=True)
class BenchFile:
    name: str
    path: Path
    language: str
    comment: str


FILES = {
    "textwrap": BenchFile("textwrap.py", Path(textwrap.__file__), "python", "#"),
    "semver": BenchFile(
        "range.js",
        ROOT / "editors" / "vscode" / "node_modules" / "semver" / "classes" / "range.js",
        "javascript",
        "//",
    ),
}


def spots(lines: list[str], count: int, comment: str) -> list[int]:
    """Indented code lines in the last two thirds of the file, spread out."""
    candidates = [
        index
        for index, line in enumerate(lines)
        if index > len(lines) // 3
        and line.startswith("  ")
        and len(line.strip()) > 12
        and not line.strip().startswith((comment, '"', "'", "*", "/*"))
    ]
    step = max(1, len(candidates) // count)
    return candidates[::step][:count]


@dataclass
class Sample:
    times: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    shown: list[dict[str, Any]] = field(default_factory=list)  # showLastPrompt per keystroke


class Editor:
    """One file open in a fresh server, typed into as a user types."""

    def __init__(self, session: LspSession, uri: str, text: str) -> None:
        self.session, self.uri = session, uri
        self.lines = text.split("\n")
        self.row, self.column = 0, 0
        self.suggestion = ""

    def type(self, text: str) -> None:
        self.session.insert(self.uri, self.row, self.column, text)
        line = self.lines[self.row]
        merged = line[: self.column] + text + line[self.column :]
        new_lines = merged.split("\n")
        self.lines[self.row : self.row + 1] = new_lines
        self.row += len(new_lines) - 1
        self.column = len(new_lines[-1]) - (len(line) - self.column)

    def backspace(self) -> None:
        self.session.delete(self.uri, self.row, self.column - 1, self.column)
        line = self.lines[self.row]
        self.lines[self.row] = line[: self.column - 1] + line[self.column :]
        self.column -= 1

    async def ask(self, sample: Sample, step: str, invoked: bool = False) -> None:
        texts, elapsed = await self.session.complete_all(self.uri, self.row, self.column, invoked)
        sample.times[step].append(elapsed)
        self.suggestion = texts[0] if texts else ""
        shown = await self.session.command("treellama.showLastPrompt")
        if os.environ.get("TREELLAMA_BENCH_VERBOSE") and shown:
            print(f"    {step}: {elapsed / 1000:.2f} s, {shown.get('timingSummary')}")
        if shown and step not in ("continue",):
            sample.shown.append({"step": step, "suggestions": len(texts), **{
                key: shown.get(key) for key in ("promptTokens", "evaluatedTokens",
                                                "generatedTokens", "timing", "layout")
            }})  # fmt: skip


async def one_sample(bench_file: BenchFile, source: str, layout: str, rows: tuple[int, int, int],
                     model: str, number: int) -> tuple[Sample, str]:  # fmt: skip
    """Every step at one spot (and two others to jump to); returns the times and the last
    full prompt (for the raw baseline)."""
    lines = source.split("\n")
    row, jump, rest = rows
    indent = len(lines[row]) - len(lines[row].lstrip())
    lines[row] = lines[row][:indent]
    text = f"{bench_file.comment} latency sample {number}\n" + "\n".join(lines)
    root = Path(tempfile.mkdtemp(prefix="treellama-bench-"))
    session = LspSession(env={
        "TREELLAMA_COMPLETION_MAX_PROMPT_MS": "0", "TREELLAMA_MODEL_NAME": model,
        "TREELLAMA_COMPLETION_PROMPT_LAYOUT": layout,
        "TREELLAMA_STATS_FILE": str(root / "stats.jsonl"),
    })  # fmt: skip
    await session.start(root)
    uri = (root / f"sample_{number}_{bench_file.name}").as_uri()
    sample = Sample()
    session.open(uri, text, bench_file.language)
    editor = Editor(session, uri, text)
    editor.row, editor.column = row + 1, indent
    await editor.ask(sample, "open")
    following = next((text for text in source.split("\n")[row + 1 :] if text.strip()), "")
    await keystrokes(editor, sample, source.split("\n")[row], following)
    prompt = (await session.command("treellama.showLastPrompt"))["prompt"]
    # Lines typed above the other spots moved them down.
    moved = len(editor.lines) - len(text.split("\n"))
    for target, step in ((jump + 1 + moved, "cold"), (rest + 1 + moved, "rested")):
        editor.row = target
        editor.column = len(editor.lines[target]) - len(editor.lines[target].lstrip())
        if step == "rested":
            session.rest(uri, editor.row, editor.column)
            await asyncio.sleep(REST_S)
        await editor.ask(sample, step)
    await session.stop()
    return sample, prompt


async def keystrokes(editor: Editor, sample: Sample, line: str, next_line: str) -> None:
    """The user types the line's real code: a character the suggestion predicted is served by
    the typed-ahead cache ("continue"), any other goes to the model ("diverge"); then a
    backspace, taking the suggestion, Enter, and the next line's first characters."""
    for char in line.strip()[:TYPED_CHARS]:
        step = "continue" if editor.suggestion.startswith(char) else "diverge"
        if step == "diverge":
            await asyncio.sleep(THINK_S)
        editor.type(char)
        await editor.ask(sample, step)
    await asyncio.sleep(THINK_S)
    editor.backspace()
    await editor.ask(sample, "backspace")
    if editor.suggestion:
        editor.type(editor.suggestion)
        await asyncio.sleep(ACCEPT_PAUSE_S)  # the follow-up is computed meanwhile
        await editor.ask(sample, "accept")
    await asyncio.sleep(THINK_S)
    current = editor.lines[editor.row]
    editor.type("\n" + current[: len(current) - len(current.lstrip())])
    await editor.ask(sample, "enter")
    code = next_line.strip() or "x"
    await asyncio.sleep(THINK_S)
    editor.type(code[0])
    await editor.ask(sample, "newline")
    await asyncio.sleep(THINK_S)
    editor.type(code[1] if len(code) > 1 else " ")
    await editor.ask(sample, "one")
    await editor.ask(sample, "three", invoked=True)


def measure_rates(model: Path, prompts: list[str], decode_tokens: int = 32) -> dict[str, float]:
    """llama-cpp-python alone: prompt tokens read per second (cold, whole prompts) and
    milliseconds per decoded token after them."""
    import llama_cpp

    llm = llama_cpp.Llama(str(model), n_ctx=N_CTX, n_threads=THREADS, n_batch=512, verbose=False)
    n_vocab = llm.n_vocab()
    read_rates, decode_ms = [], []
    for prompt in prompts:
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        read_rates.append(len(tokens) / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(decode_tokens):
            llm.eval([int(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)).argmax())])
        decode_ms.append((time.perf_counter() - started) * 1000 / decode_tokens)
    return {"prompt_tokens_per_s": round(statistics.median(read_rates), 1),
            "decode_ms_per_token": round(statistics.median(decode_ms), 2)}  # fmt: skip


def physical_limit_ms(shown: dict[str, Any], rates: dict[str, float]) -> float:
    timing = shown.get("timing") or {}
    read = timing.get("read_tokens", shown.get("evaluatedTokens") or 0)
    decoded = timing.get("decoded_tokens", shown.get("generatedTokens") or 0)
    return read / rates["prompt_tokens_per_s"] * 1000 + decoded * rates["decode_ms_per_token"]


def report(results: dict[str, dict[str, Sample]], rates: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, samples in results.items():
        times = {step: [t for s in samples.values() for t in s.times[step]] for step in STEPS}
        # What the model answered (the typed-ahead cache answers in under CACHED_MS).
        by_model = [t for step in KEYSTROKES for t in times[step] if t > CACHED_MS]
        shown = [row for s in samples.values() for row in s.shown]
        on_line = [row for row in shown if row["step"] in KEYSTROKES]
        limits = [physical_limit_ms(row, rates) for row in on_line]
        out[key] = {
            "steps": {step: summary(values) for step, values in times.items() if values},
            "keystroke_ms": summary(by_model),
            "keystroke_limit_ms": summary(limits) if limits else None,
            "read_tokens_per_keystroke": summary(
                [float(row["timing"]["read_tokens"]) for row in on_line if row.get("timing")]
            ),
            "keystrokes": shown,
        }
    return out


def print_table(out: dict[str, Any]) -> None:
    keys = list(out)
    print(f"\n{'step':12}" + "".join(f"{k:>28}" for k in keys))
    for step in STEPS:
        cells = []
        for key in keys:
            row = out[key]["steps"].get(step)
            cells.append(f"{row['p50'] / 1000:8.2f} s p50 {row['p95'] / 1000:6.2f} s p95"
                         if row else f"{'-':>28}")  # fmt: skip
        print(f"{step:12}" + "".join(f"{c:>28}" for c in cells))
    for key in keys:
        limit = out[key]["keystroke_limit_ms"]
        read = out[key]["read_tokens_per_keystroke"]
        keystroke = out[key]["keystroke_ms"]
        if limit:
            print(f"{key}: a keystroke on the line p50 {keystroke['p50'] / 1000:.2f} s, "
                  f"p95 {keystroke['p95'] / 1000:.2f} s; physical limit p50 "
                  f"{limit['p50'] / 1000:.2f} s; tokens re-read p50 {read['p50']:.0f}")  # fmt: skip


def ratios(out: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for name in {key.split(" ")[0] for key in out}:
        line, cursor = out.get(f"{name} line"), out.get(f"{name} cursor")
        if not line or not cursor:
            continue
        steps = line["steps"]
        keystroke, old = line["keystroke_ms"]["p50"], cursor["keystroke_ms"]["p50"]
        found[f"{name}: keystroke line / cursor (p50)"] = round(keystroke / old, 3)
        if line["keystroke_limit_ms"]:
            found[f"{name}: keystroke line / physical limit (p50)"] = round(
                keystroke / line["keystroke_limit_ms"]["p50"], 3
            )
        if "three" in steps:
            found[f"{name}: 3 suggestions / 1 (p50)"] = round(steps["three"]["p50"] / keystroke, 3)
    return found


async def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, Sample]], list[str]]:
    results: dict[str, dict[str, Sample]] = {}
    prompts: list[str] = []
    for name in args.files:
        bench_file = FILES[name]
        if not bench_file.path.exists():
            raise SystemExit(f"{bench_file.path} is missing: run `make vscode` first")
        source = bench_file.path.read_text()
        lines = source.split("\n")
        chosen = spots(lines, args.samples * 3, bench_file.comment)
        triples = [tuple(chosen[i :: args.samples][:3]) for i in range(args.samples)]
        for layout in args.layouts:
            key = f"{name} {layout}"
            results[key] = {}
            for number, rows in enumerate(triples):
                if len(rows) < 3:
                    continue
                sample, prompt = await one_sample(
                    bench_file,
                    source,
                    layout,
                    rows,
                    args.model,
                    number,  # type: ignore[arg-type]
                )
                results[key][str(rows[0] + 1)] = sample
                prompts.append(prompt)
                steps = {s: round(v[0] / 1000, 2) for s, v in sample.times.items() if v}
                print(f"  {key} line {rows[0] + 1}: {steps}")
    return results, prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--files", nargs="+", default=list(FILES), choices=list(FILES))
    args = parser.parse_args()
    print(f"latency: {', '.join(args.files)}; {args.samples} samples each; layouts "
          f"{', '.join(args.layouts)}; model {args.model}, {THREADS} threads")  # fmt: skip
    results, prompts = asyncio.run(run(args))
    print("  llama-cpp-python alone on the same prompts (rates)...")
    rates = measure_rates(model_path(args.model), prompts[:: max(1, len(prompts) // 4)])
    print(f"  prompt {rates['prompt_tokens_per_s']} tokens/s, "
          f"decode {rates['decode_ms_per_token']} ms/token")  # fmt: skip
    out = report(results, rates)
    print_table(out)
    found = ratios(out)
    for label, value in found.items():
        print(f"{label:52}{value:8.3f}")
    path = save(f"latency-{args.model}", {
        "threads": THREADS, "model": args.model, "think_s": THINK_S, "rest_s": REST_S,
        "rates": rates, "ratios": found, "results": out,
    })  # fmt: skip
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
