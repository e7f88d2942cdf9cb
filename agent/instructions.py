"""Project instructions for the agent from AGENTS.md files (the convention Codex reads).

The repository root's file comes first, then those in subfolders, nearest to the root first,
each labelled with its folder; all of them together are capped so they never crowd out the
task itself.
"""

from __future__ import annotations

from pathlib import Path

from agent.env.worktree import files_under
from agent.safety import redact

FILE_NAME = "AGENTS.md"
MAX_CHARS = 8000


def project_instructions(root: Path, limit: int = MAX_CHARS) -> str:
    found = sorted(
        (p for p in files_under(root) if Path(p).name == FILE_NAME), key=lambda p: (p.count("/"), p)
    )
    parts: list[str] = []
    used = 0
    for relative in found:
        try:
            text = redact((root / relative).read_text(encoding="utf-8", errors="replace").strip())
        except OSError:
            continue
        folder = str(Path(relative).parent)
        label = "the whole project" if folder == "." else f"files under {folder}/"
        block = f"From {relative} (applies to {label}):\n{text}"
        if used + len(block) > limit:
            block = block[: max(0, limit - used)] + "\n[... cut: AGENTS.md text over the limit]"
        parts.append(block)
        used += len(block)
        if used >= limit:
            break
    return "\n\n".join(parts)
