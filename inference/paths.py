"""Where treellama keeps its files: the user's cache directory (XDG on Linux), or the folders
the `[paths]` settings name.

The settings are parsed once, with the rest of the configuration, by the front end that
starts (the language server, the CLI), which then calls `configure`. Nothing here reads the
environment: `TREELLAMA_CACHE_DIR` and its siblings reach it through the typed configuration.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from inference.settings import PathSettings

_configured = [PathSettings()]


def configure(settings: PathSettings) -> None:
    _configured[0] = settings


def settings() -> PathSettings:
    return _configured[0]


def _or(value: str, default: Path) -> Path:
    return Path(value).expanduser() if value else default


def cache_dir() -> Path:
    """The root of treellama's cache."""
    default = Path(platformdirs.user_cache_dir("treellama", appauthor=False))
    return _or(settings().cache_dir, default)


def models_dir() -> Path:
    return cache_dir() / "models"


def index_dir() -> Path:
    """Where the per-workspace code index databases live."""
    return _or(settings().index_dir, cache_dir() / "index")


def stats_file() -> Path:
    return _or(settings().stats_file, cache_dir() / "stats.jsonl")


def agent_dir() -> Path:
    """Task copies and logs."""
    return _or(settings().agent_dir, cache_dir() / "agent")
