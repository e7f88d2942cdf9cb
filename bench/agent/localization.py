"""Localization on the real-repository suite, without the model: for each task, the pipeline
reproduces the failure (the real tests, the spectrum) and localizes; the model is a scripted
one that writes no candidate, since only the place is measured. Reported: the rank of the
region that holds the buggy function (a small file counts when the whole file is the region).

    python -m bench.agent.localization [--only TASK ...] [--save NAME]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from agent.approvals import AllowAll
from agent.loop.agent_loop import Event
from agent.model import ScriptedCandidateModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from bench.agent import real_repos
from bench.agent.real_repos import REAL_TASKS, RealTask
from bench.common import save


def rank_of(task: RealTask, regions: list[dict[str, Any]]) -> int | None:
    """0-based rank of the first region that holds the buggy function, or None."""
    first, last, _ = real_repos.buggy_function(task)
    for index, region in enumerate(regions):
        holds = region["first"] - 1 <= first and last <= region["last"] - 1
        if region["path"] == task.path and holds:
            return index
    return None


def localize_task(task: RealTask, work: Path) -> dict[str, Any]:
    root = real_repos.build(task, work / task.name)
    events: list[Event] = []
    manager = TaskManager(
        root,
        lambda cancel: ScriptedCandidateModel(replies=[]),  # writes nothing: the place only
        AgentSettings(command_timeout_s=60, strategy="pipeline"),
        AllowAll(),
        lambda state, event: events.append(event),
    )
    state = manager.start(task.instruction, "medium", "never")
    manager.wait(state.id)
    manager.close()
    first = next((e for e in events if e.kind == "localize"), None)
    regions = list(first.data.get("regions", [])) if first else []
    return {
        "task": task.name,
        "kind": task.kind,
        "function": real_repos.buggy_function(task)[2],
        "rank": rank_of(task, regions),
        "top": [f"{r['name']} ({r['score']})" for r in regions[:3]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=[], help="task names")
    parser.add_argument("--save", default="agent-localization")
    args = parser.parse_args()
    tasks = [t for t in REAL_TASKS if not args.only or t.name in args.only]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for task in tasks:
            row = localize_task(task, Path(scratch))
            rows.append(row)
            print(f"  {row['task']:26} {row['kind']:7} {row['function']:16} "
                  f"rank {row['rank']}  top: {'; '.join(row['top'])}", flush=True)  # fmt: skip
    first = sum(r["rank"] == 0 for r in rows)
    listed = sum(r["rank"] is not None for r in rows)
    print(f"the buggy function is the first region for {first}/{len(rows)}, "
          f"among the regions for {listed}/{len(rows)}")  # fmt: skip
    save(args.save, {"tasks": len(rows), "first": first, "listed": listed, "rows": rows})


if __name__ == "__main__":
    main()
