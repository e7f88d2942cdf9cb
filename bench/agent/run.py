"""Agent benchmark: 12 small real tasks (bench/agent/tasks.py), for each model, each agent
strategy (the test-driven pipeline, the tool loop) against a one-shot baseline (one prompt with
every file, one edit, no tools), in the same run.

    python -m bench.agent.run [--models ...] [--strategies pipeline loop] [--effort medium]

Success means the task's check passes: its own tests, restored as they were, plus hidden ones.
Reported: success rate, p50 and p95 seconds per task, tokens, steps, candidates per task, and
each strategy's ratios to the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.approvals import AllowAll
from agent.localize import Region
from agent.model import CandidateModel, WorkerChatModel
from agent.rewrite import prompt, splice
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from agent.trajectory import read as read_log
from bench.agent import real_repos
from bench.agent.historical_repos import HISTORICAL_TASKS
from bench.agent.real_repos import REAL_TASKS, RealTask
from bench.agent.tasks import TASKS, Task
from bench.agent.validation_repos import VALIDATION_TASKS
from bench.common import save, start_worker
from inference import paths
from inference.fences import opening_fence, reply_stop


def make_repo(root: Path, task: Task) -> Path:
    root.mkdir(parents=True)
    for name, text in task.files.items():
        (root / name).write_text(text)
    git = ["git", "-C", str(root), "-c", "user.email=b@example.com", "-c", "user.name=bench"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "task"], check=True)
    return root


def check(root: Path, task: Task) -> bool:
    """The task's tests as they were (an agent may not pass by editing them) plus hidden ones."""
    for name, text in task.files.items():
        if name.startswith("test_"):
            (root / name).write_text(text)
    (root / "test_hidden.py").write_text(task.hidden_test)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings"],
            cwd=root,
            capture_output=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def run_agent(
    worker: Any,
    task: Task | RealTask,
    work: Path,
    effort: str,
    strategy: str = "loop",
    scope: str = "function",
) -> dict[str, Any]:
    where = work / f"{strategy}-{scope}-{task.name}"
    root = real_repos.build(task, where) if isinstance(task, RealTask) else make_repo(where, task)
    events: list[tuple[float, Any]] = []
    manager = TaskManager(
        root,
        lambda cancel: WorkerChatModel(worker, cancel),
        AgentSettings(command_timeout_s=60, strategy=strategy, rewrite_scope=scope),
        AllowAll(),
        lambda state, event: events.append((time.monotonic(), event)),
    )
    started = time.monotonic()
    state = manager.start(task.instruction, effort, "never")
    state = manager.wait(state.id)
    seconds = time.monotonic() - started
    passed = False
    if state.status == "done" and state.changes:
        _, tree = manager.finished(state.id)
        passed = (
            real_repos.check(tree.root, task)
            if isinstance(task, RealTask)
            else check(tree.root, task)
        )
    manager.close()
    return {
        "task": task.name,
        "status": state.status,
        "passed": passed,
        "steps": state.step,
        "tokens": state.tokens,
        "seconds": round(seconds, 1),
        "candidates": sum(1 for _, e in events if e.kind == "candidate"),
        "summary": state.summary[:200],
        **provenance(events, Path(state.log) if state.log else None),
    }


def provenance(events: list[tuple[float, Any]], log: Path | None) -> dict[str, Any]:
    """Which source made the chosen candidate, and per source: candidates, green ones, the
    seconds its candidates' tests took and the model's seconds and tokens for it."""
    per: dict[str, dict[str, float]] = {}

    def of(source: str) -> dict[str, float]:
        return per.setdefault(source, {"candidates": 0, "green": 0, "seconds": 0.0,
                                       "tokens": 0})  # fmt: skip

    judging: dict[int, tuple[float, str]] = {}
    chosen = ""
    for at, event in events:
        source = str(event.data.get("source", ""))
        if event.kind == "candidate" and source:
            of(source)["candidates"] += 1
            judging[event.data.get("index", 0)] = (at, source)
        elif event.kind == "validate" and source:
            started, _ = judging.pop(event.data.get("index", 0), (at, source))
            of(source)["seconds"] += at - started
            of(source)["green"] += bool(event.data.get("green"))
        elif event.kind == "chosen":
            chosen = str(event.data.get("source", ""))
    for record in read_log(log) if log is not None and log.exists() else []:
        if record.get("type") == "model" and record.get("source"):
            entry = of(record["source"])
            entry["tokens"] += record.get("prompt_tokens", 0) + record.get("completion_tokens", 0)
            entry["seconds"] += record.get("duration_ms", 0) / 1000
    rounded = {k: {n: round(v, 1) for n, v in d.items()} for k, d in per.items()}
    return {"chosen_source": chosen, "sources": rounded}


FILE_BLOCK = re.compile(r"FILE:\s*(\S+)\s*\n```[\w+-]*\n(.*?)```", re.S)


def run_one_shot(worker: Any, task: Task, work: Path) -> dict[str, Any]:
    root = make_repo(work / f"oneshot-{task.name}", task)
    files = "\n\n".join(f"FILE: {name}\n```python\n{text}```" for name, text in task.files.items())
    messages = [
        {
            "role": "system",
            "content": "You are an expert programmer. You change code to complete a task.",
        },
        {
            "role": "user",
            "content": (
                f"The project's files:\n\n{files}\n\nThe task: {task.instruction}\n\n"
                "Reply with the complete new content of the one file you change, as\n"
                "FILE: <path>\n```python\n<the whole file>\n```"
            ),
        },
    ]
    started = time.monotonic()
    reply = WorkerChatModel(worker).reply(messages, max_tokens=700)
    seconds = time.monotonic() - started
    match = FILE_BLOCK.search(reply.text)
    passed = False
    if match and (root / match.group(1)).resolve().parent == root.resolve():
        (root / match.group(1)).write_text(match.group(2))
        passed = check(root, task)
    return {
        "task": task.name,
        "passed": passed,
        "tokens": reply.prompt_tokens + reply.completion_tokens,
        "seconds": round(seconds, 1),
    }


def run_oracle(worker: Any, task: RealTask, work: Path, samples: int = 4) -> dict[str, Any]:
    """The calibration row: the model is given the buggy function itself (oracle localization)
    and answers in one shot, `samples` times (one greedy); solved when any sample passes."""
    root = real_repos.build(task, work / f"oracle-{task.name}")
    first, last, name = real_repos.buggy_function(task)
    text = (root / task.path).read_text(encoding="utf-8")
    region = Region(task.path, first, last, name, "function", 1.0)
    code = "\n".join(text.split("\n")[first : last + 1])
    messages, prefix = prompt(task.instruction, region, code, "python")
    model: CandidateModel = WorkerChatModel(worker)
    started = time.monotonic()
    reply = model.candidates(
        messages, reply_prefix=prefix, temperatures=[0.0] + [0.8] * (samples - 1),
        stop=[reply_stop(opening_fence(prefix))], max_tokens=1024, draft=code, seed=1,
    )  # fmt: skip
    seconds = time.monotonic() - started
    passed = False
    for answer in dict.fromkeys(reply.texts):
        try:
            spliced = splice(text, region, answer, reply_prefix=prefix)
            (root / task.path).write_text(spliced, encoding="utf-8")
        except Exception:
            continue
        if real_repos.check(root, task):
            passed = True
            break
    return {
        "task": task.name,
        "passed": passed,
        "tokens": reply.prompt_tokens + reply.generated_tokens,
        "seconds": round(seconds, 1),
        "candidates": samples,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in rows]
    return {
        "solved": sum(r["passed"] for r in rows),
        "success_rate": round(sum(r["passed"] for r in rows) / len(rows), 3),
        "mean_steps": round(statistics.mean(r.get("steps", 1) for r in rows), 1),
        "mean_tokens": round(statistics.mean(r["tokens"] for r in rows)),
        "mean_seconds": round(statistics.mean(seconds), 1),
        "p50_seconds": percentile(seconds, 0.5),
        "p95_seconds": percentile(seconds, 0.95),
        "mean_candidates": round(statistics.mean(r.get("candidates", 1) for r in rows), 1),
    }


def by_source(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per candidate source, over a suite: tasks whose chosen, passing candidate it made,
    tasks where it alone made a green candidate, its candidates, green ones, seconds and
    tokens in all."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        sources = row.get("sources", {})
        greens = [name for name, entry in sources.items() if entry["green"]]
        for name, entry in sources.items():
            total = found.setdefault(name, {"won": 0, "only": 0, "candidates": 0, "green": 0,
                                            "seconds": 0.0, "tokens": 0})  # fmt: skip
            total["won"] += int(row["passed"] and row.get("chosen_source") == name)
            total["only"] += int(row["passed"] and greens == [name])
            for key in ("candidates", "green", "seconds", "tokens"):
                total[key] = round(total[key] + entry[key], 1)
    return found


def run_suite(
    worker: Any,
    model: str,
    suite: str,
    tasks: list[Any],
    strategies: list[str],
    effort: str,
    work: Path,
    with_baseline: bool = True,
) -> dict[str, Any]:
    """One model on one suite: its baseline (one-shot; on the real suites, the oracle row)
    and each strategy, task by task."""
    real = suite in ("real", "validation", "historical")
    baseline = "oracle" if real else "one_shot"
    rows: dict[str, list[dict[str, Any]]] = {s: [] for s in (baseline, *strategies)}
    for task in tasks:
        if not with_baseline:
            rows[baseline].append({"task": task.name, "passed": False, "seconds": 0.0,
                                   "tokens": 0, "skipped": True})  # fmt: skip
        elif real:
            rows[baseline].append(run_oracle(worker, task, work))
        else:
            rows[baseline].append(run_one_shot(worker, task, work))
        mark = "PASS" if rows[baseline][-1]["passed"] else "fail"
        line = f"  {model} {task.name:24} {baseline} {mark}"
        for strategy in strategies:
            # "pipeline:body": the pipeline, rewriting functions without their docstrings
            name, _, scope = strategy.partition(":")
            row = run_agent(worker, task, work, effort, name, scope or "function")
            rows[strategy].append(row)
            line += f" | {strategy} {'PASS' if row['passed'] else 'fail'} ({row['seconds']} s)"
        print(line, flush=True)
    base = summarize(rows[baseline])
    entry: dict[str, Any] = {baseline: base, "rows": rows}
    for strategy in strategies:
        summary = summarize(rows[strategy])
        summary[f"vs_{baseline}"] = {
            "success": round(summary["success_rate"] / base["success_rate"], 2)
            if base["success_rate"]
            else None,
            "seconds": round(summary["mean_seconds"] / base["mean_seconds"], 1)
            if base["mean_seconds"]
            else None,
        }
        summary["by_source"] = by_source(rows[strategy])
        if real:
            summary["by_kind"] = {
                kind: f"{sum(r['passed'] for r, t in pairs if t.kind == kind)}"
                f"/{sum(t.kind == kind for t in tasks)}"
                for pairs in [list(zip(rows[strategy], tasks, strict=True))]
                for kind in ("report", "tests", "body", "historical")
            }
        entry[strategy] = summary
        print(
            f"{model} {suite} {strategy}: {summary['solved']}/{len(tasks)} "
            f"({baseline} {base['solved']}/{len(tasks)}), p50 {summary['p50_seconds']} s, "
            f"p95 {summary['p95_seconds']} s, {summary['mean_tokens']} tokens, "
            f"{summary['mean_candidates']} candidates per task",
            flush=True,
        )
    return entry


def variants(ablate: list[str] | None, effort: str) -> list[str | None]:
    """The full configuration first; then, with --ablate, one run without each part."""
    if ablate is None:
        return [None]
    if ablate:
        return [None, *ablate]
    from agent.pipeline import PIPELINE_CONFIGS

    config = PIPELINE_CONFIGS[effort]
    return [None, *(s.name for s in config.sources), *config.scorers, *config.sections]


@contextlib.contextmanager
def switched_off(name: str | None, effort: str) -> Iterator[None]:
    """The effort's pipeline configuration with `name` switched off, for the runs inside."""
    if name is None:
        yield
        return
    from agent.pipeline import PIPELINE_CONFIGS

    full = PIPELINE_CONFIGS[effort]
    PIPELINE_CONFIGS[effort] = full.without(name)
    try:
        yield
    finally:
        PIPELINE_CONFIGS[effort] = full


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--strategies", nargs="+", default=["pipeline", "loop"])
    parser.add_argument("--suites", nargs="+", default=["small", "real"],
                        choices=["small", "real", "validation", "historical"])  # fmt: skip
    parser.add_argument("--no-baseline", action="store_true", help="skip one-shot and oracle")
    parser.add_argument("--ablate", nargs="*", default=None,
                        help="each candidate source, scorer and prompt section named (all of "
                             "them when none is) switched off in turn")  # fmt: skip
    parser.add_argument("--effort", default="medium", choices=["low", "medium", "high"])
    parser.add_argument("--tasks", type=int, default=0, help="the first N tasks of each suite")
    parser.add_argument("--only", nargs="*", default=[], help="task names")
    parser.add_argument("--save", default="", help="the results' name (default: by suite)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (trajectories)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-agent-"))
    paths.configure(dataclasses.replace(paths.settings(), agent_dir=str(work / "agent")))
    suites: dict[str, list[Any]] = {
        "small": list(TASKS), "real": list(REAL_TASKS), "validation": list(VALIDATION_TASKS),
        "historical": list(HISTORICAL_TASKS),
    }  # fmt: skip
    for name in suites:
        if args.only:
            suites[name] = [t for t in suites[name] if t.name in args.only]
        if args.tasks:
            suites[name] = suites[name][: args.tasks]
    results: dict[str, Any] = {"effort": args.effort, "suites": {}}
    for model in args.models:
        worker = start_worker(model)
        for suite in args.suites:
            tasks = suites[suite]
            for variant in variants(args.ablate, args.effort):
                label = model if variant is None else f"{model} without {variant}"
                print(f"{label}, {suite}: {len(tasks)} tasks, effort {args.effort}, "
                      f"{args.strategies}")  # fmt: skip
                with switched_off(variant, args.effort):
                    entry = run_suite(worker, label, suite, tasks, args.strategies, args.effort,
                                      work / model / suite / str(variant),
                                      not args.no_baseline and variant is None)  # fmt: skip
                results["suites"].setdefault(suite, {"tasks": len(tasks), "models": {}})
                results["suites"][suite]["models"][label] = entry
        worker.stop()
    name = args.save or (
        "agent" if set(args.suites) == {"small", "real"} else f"agent-{args.suites[0]}"
    )
    path = save(name, results)
    print(f"saved {path}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
