"""Candidates by the length of the place they rewrite, read from a kept agent benchmark run's
trajectories (`bench.agent.run --keep` prints the folder):

    python -m bench.agent.regions /tmp/treellama-bench-agent-XXXX [--label NAME]

Per bucket of the located function's length: tasks, candidates, the share rejected before the
tests (and why: no parse, deleted definitions, unchanged), the share green, and seconds and
model tokens per task. A task's length is that of its first located region; a window
(agent.pipeline.places) counts under the function's length, and the rows say how many
rounds edited a window.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

BUCKETS = ((1, 40), (41, 80), (81, 150), (151, 10_000))


def bucket(lines: int) -> str:
    low, high = next(b for b in BUCKETS if b[0] <= lines <= b[1])
    return f"{low}-{high}" if high < 10_000 else f"{low}+"


def task_figures(log: Path) -> dict[str, Any] | None:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    located = next((r for r in records if r["type"] == "localize" and r.get("regions")), None)
    if located is None:
        return None
    first = located["regions"][0]
    candidates = [r for r in records if r["type"] == "candidate"]
    problems = [str(r.get("problem", "")) for r in candidates]
    return {
        "lines": first["last"] - first["first"] + 1,
        "kind": first["kind"],
        "windows": sum(1 for r in records if r["type"] == "window"),
        "candidates": len(candidates),
        "no_parse": sum("does not parse" in p for p in problems),
        "deletes": sum(p.startswith("it deletes") for p in problems),
        "unchanged": sum(p == "it changes nothing" for p in problems),
        "rejected": sum(bool(p) for p in problems),
        "green": sum(bool(r.get("green")) for r in records if r["type"] == "validate"),
        "seconds": records[-1]["time"] - records[0]["time"],
        "tokens": sum(
            r.get("prompt_tokens", 0) + r.get("completion_tokens", 0)
            for r in records
            if r["type"] == "model"
        ),
    }


def summary(folder: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for log in sorted(folder.glob("agent/*/*.jsonl")):
        figures = task_figures(log)
        if figures is not None and figures["kind"] in ("function", "window"):
            rows[bucket(figures["lines"])].append(figures)
    found = {}
    for name, tasks in sorted(rows.items(), key=lambda kv: int(kv[0].split("-")[0].rstrip("+"))):
        total = sum(t["candidates"] for t in tasks) or 1
        found[name] = {
            "tasks": len(tasks),
            "windowed_tasks": sum(1 for t in tasks if t["windows"]),
            "candidates": sum(t["candidates"] for t in tasks),
            "rejected": round(sum(t["rejected"] for t in tasks) / total, 2),
            "no_parse": round(sum(t["no_parse"] for t in tasks) / total, 2),
            "deletes": round(sum(t["deletes"] for t in tasks) / total, 2),
            "unchanged": round(sum(t["unchanged"] for t in tasks) / total, 2),
            "green": round(sum(t["green"] for t in tasks) / total, 2),
            "p50_seconds": round(statistics.median(t["seconds"] for t in tasks), 1),
            "mean_tokens": round(statistics.mean(t["tokens"] for t in tasks)),
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    print(json.dumps({"label": args.label, "by_function_lines": summary(args.folder)}, indent=1))


if __name__ == "__main__":
    main()
