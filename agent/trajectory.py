"""A task's log: one JSON line per event, redacted of secrets, and a readable rendering.

Every model call (with its token counts and duration), every tool call and result, every
approval, steering message and compaction goes in, so the user can review what happened.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.safety import redact
from inference.paths import agent_dir


def log_path(workspace_key: str, task_id: str) -> Path:
    return agent_dir() / workspace_key / f"{task_id}.jsonl"


def find_log(task_id: str) -> Path | None:
    """A task's log in any workspace's folder (task ids are unique)."""
    for path in agent_dir().glob(f"*/{task_id}.jsonl"):
        return path
    return None


@dataclass(frozen=True)
class LogSummary:
    """One task as `treellama agent log` lists it."""

    task_id: str
    started: float
    instruction: str
    outcome: str  # "done: …", "failed: …", or "did not finish"


def summaries(workspace_key: str) -> list[LogSummary]:
    """The tasks logged for a workspace, newest first."""
    found = []
    for path in (agent_dir() / workspace_key).glob("*.jsonl"):
        records = read(path)
        head = next((r for r in records if r.get("type") in ("task", "refused")), {})
        ends = [r for r in records if r.get("type") in ("done", "failed", "refused")]
        outcome = "did not finish"
        if ends:
            end = ends[-1]
            said = end.get("message") or end.get("reason") or ""
            outcome = f"{end['type']}: {said}".rstrip(": ")
        started = records[0].get("time", 0.0) if records else path.stat().st_mtime
        found.append(LogSummary(path.stem, float(started), str(head.get("instruction", "")),
                                outcome))  # fmt: skip
    return sorted(found, key=lambda s: s.started, reverse=True)


class Trajectory:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, kind: str, **fields: Any) -> None:
        record = {"time": round(time.time(), 3), "type": kind, **fields}
        line = redact(json.dumps(record, ensure_ascii=False, default=str))
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def read(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"type": "unreadable", "text": line[:200]})
    return records


def _clip(text: Any, limit: int = 600) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit} more]"


def render(records: list[dict[str, Any]]) -> str:
    """The log as a person reads it."""
    lines: list[str] = []
    start = records[0]["time"] if records else 0.0
    for record in records:
        at = f"[{record.get('time', start) - start:7.1f}s]"
        kind = record.get("type")
        if kind == "task":
            lines.append(f"{at} task {record.get('task_id')}: {record.get('instruction')}")
            lines.append(
                f"          effort {record.get('effort')}, approvals "
                f"{record.get('approval_policy')}, sandbox {record.get('sandbox')}, "
                f"copy: {record.get('tree')}, code index: "
                f"{'yes' if record.get('code_index') else 'no'}"
            )
        elif kind == "model":
            lines.append(
                f"{at} model: {record.get('prompt_tokens')} prompt + "
                f"{record.get('completion_tokens')} generated tokens in "
                f"{record.get('duration_ms', 0) / 1000:.1f} s"
            )
        elif kind == "plan":
            lines.append(f"{at} plan:\n" + _indent(record.get("text", "")))
        elif kind == "tool_call":
            args = json.dumps(record.get("args", {}), ensure_ascii=False)
            lines.append(f"{at} step {record.get('step')}: {record.get('tool')} {_clip(args, 300)}")
            if record.get("thought"):
                lines.append(f"          thought: {_clip(record['thought'], 300)}")
        elif kind == "tool_result":
            mark = "ok" if record.get("ok") else "failed"
            lines.append(f"{at} result ({mark}):\n" + _indent(_clip(record.get("text", ""))))
        elif kind in ("reproduce", "localize", "test_written", "chosen", "strategy"):
            lines.append(f"{at} {kind}: {record.get('message') or record.get('strategy')}")
            for region in record.get("regions", [])[:5]:
                lines.append(
                    f"          {region['path']}:{region['first']}-{region['last']} "
                    f"{region['name']} ({region['score']}: {'; '.join(region['reasons'])})"
                )
            if record.get("output"):
                lines.append(_indent(_clip(record["output"], 800)))
        elif kind in ("candidate", "closest"):
            lines.append(f"{at} {record.get('message')}")
            lines.append(_indent(_clip(record.get("diff", ""), 1500)))
        elif kind == "validate":
            lines.append(f"{at} tests of {record.get('message')}")
            if not record.get("green"):
                lines.append(_indent(_clip(record.get("output", ""), 800)))
        elif kind == "approval":
            lines.append(
                f"{at} approval: {record.get('command')!r} ({record.get('reason')}): "
                f"{record.get('decision')}"
            )
        else:
            detail = {k: v for k, v in record.items() if k not in ("time", "type")}
            lines.append(f"{at} {kind}: {_clip(json.dumps(detail, ensure_ascii=False), 400)}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("          " + line for line in str(text).split("\n"))
