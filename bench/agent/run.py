"""Agent benchmark: 12 small real tasks (bench/agent/tasks.py), for each model, the agent loop
against a one-shot baseline (one prompt with every file, one edit, no tools), in the same run.

    python -m bench.agent.run [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--effort low]

Success means the task's check passes: its own tests, restored as they were, plus hidden ones.
Reported: success rate, steps, tokens and wall time, and the agent's ratios to the baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.approvals import AllowAll
from agent.model import WorkerChatModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from bench.agent.tasks import TASKS, Task
from bench.common import save, start_worker


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


def run_agent(worker: Any, task: Task, work: Path, effort: str) -> dict[str, Any]:
    root = make_repo(work / f"agent-{task.name}", task)
    manager = TaskManager(
        root,
        lambda cancel: WorkerChatModel(worker, cancel),
        AgentSettings(command_timeout_s=60),
        AllowAll(),
    )
    started = time.monotonic()
    state = manager.start(task.instruction, effort, "never")
    state = manager.wait(state.id)
    seconds = time.monotonic() - started
    passed = False
    if state.status == "done" and state.changes:
        _, tree = manager.finished(state.id)
        passed = check(tree.root, task)
    manager.close()
    return {
        "task": task.name,
        "status": state.status,
        "passed": passed,
        "steps": state.step,
        "tokens": state.tokens,
        "seconds": round(seconds, 1),
        "summary": state.summary[:200],
    }


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


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "success_rate": round(sum(r["passed"] for r in rows) / len(rows), 3),
        "mean_steps": round(statistics.mean(r.get("steps", 1) for r in rows), 1),
        "mean_tokens": round(statistics.mean(r["tokens"] for r in rows)),
        "mean_seconds": round(statistics.mean(r["seconds"] for r in rows), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--effort", default="low", choices=["low", "medium", "high"])
    parser.add_argument("--tasks", type=int, default=len(TASKS))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-agent-"))
    os.environ.setdefault("TREELLAMA_AGENT_DIR", str(work / "agent"))
    tasks = TASKS[: args.tasks]
    results: dict[str, Any] = {"tasks": len(tasks), "effort": args.effort, "models": {}}
    print(f"Agent benchmark: {len(tasks)} tasks, effort {args.effort}")
    for model in args.models:
        worker = start_worker(model)
        agent_rows, shot_rows = [], []
        model_work = work / model
        for task in tasks:
            shot_rows.append(run_one_shot(worker, task, model_work))
            agent_rows.append(run_agent(worker, task, model_work, args.effort))
            a, s = agent_rows[-1], shot_rows[-1]
            print(
                f"  {model} {task.name:14} agent {'PASS' if a['passed'] else 'fail'} "
                f"({a['status']}, {a['steps']} steps, {a['tokens']} tokens, {a['seconds']} s)  "
                f"one-shot {'PASS' if s['passed'] else 'fail'} ({s['seconds']} s)",
                flush=True,
            )
        worker.stop()
        agent, shot = summarize(agent_rows), summarize(shot_rows)
        ratio = {
            "success": round(agent["success_rate"] / shot["success_rate"], 2)
            if shot["success_rate"]
            else None,
            "seconds": round(agent["mean_seconds"] / shot["mean_seconds"], 1),
            "tokens": round(agent["mean_tokens"] / shot["mean_tokens"], 1),
        }
        results["models"][model] = {
            "agent": agent,
            "one_shot": shot,
            "agent_vs_one_shot": ratio,
            "rows": {"agent": agent_rows, "one_shot": shot_rows},
        }
        print(
            f"{model}: agent {agent['success_rate']:.0%} vs one-shot {shot['success_rate']:.0%} "
            f"(ratio {ratio['success']}); agent {agent['mean_steps']} steps, "
            f"{agent['mean_tokens']} tokens, {agent['mean_seconds']} s per task "
            f"({ratio['seconds']}x the one-shot time)",
            flush=True,
        )
    path = save("agent", results)
    print(f"saved {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
