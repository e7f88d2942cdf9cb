"""Where treellama keeps its files: the user's cache directory (XDG on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """The root of treellama's cache; `TREELLAMA_CACHE_DIR` overrides it (tests, CI)."""
    override = os.environ.get("TREELLAMA_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("treellama", appauthor=False))


def models_dir() -> Path:
    return cache_dir() / "models"


def index_dir() -> Path:
    """Where the per-workspace code index databases live; `TREELLAMA_INDEX_DIR` overrides it."""
    override = os.environ.get("TREELLAMA_INDEX_DIR")
    if override:
        return Path(override).expanduser()
    return cache_dir() / "index"
