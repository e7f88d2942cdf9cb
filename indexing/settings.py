"""Typed settings of the code index; parsed and validated in lsp_server.config like the others."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_EXCLUDES = (
    "node_modules/", ".venv/", "venv/", "__pycache__/", ".tox/", ".mypy_cache/",
    ".pytest_cache/", "*.min.js", "*.bundle.js",
)  # fmt: skip


@dataclass(frozen=True)
class IndexSettings:
    enabled: bool = True
    # gitignore-style patterns, on top of the workspace's .gitignore files.
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    # Files larger than this are not indexed (generated code, data dumps).
    max_file_kb: int = field(default=1024, metadata={"min": 1, "max": 1 << 20})
    # Follow changes on disk with watchdog.
    watch: bool = True
    # Retrieved code in the completion prompt. "auto" turns it on for models that measurably
    # gain from it (see the README's retrieval benchmark) and off for the others.
    retrieval: str = field(default="auto", metadata={"choices": ("auto", "on", "off")})
    # Hard cap on gathering context for one completion.
    retrieval_ms: int = field(default=60, metadata={"min": 1, "max": 10_000})
