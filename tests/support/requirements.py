"""Tools the editor tests need (code-server, Chromium, playwright-core, vendored files):
missing ones skip the test, or fail it under `make test` (TREELLAMA_REQUIRE_FIXTURES)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def requirement(found: Path | str | None, what: str) -> Path:
    if found is None or not Path(found).exists():
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail(f"{what} is missing: run `make test` (or `make vscode code-server`)")
        pytest.skip(f"{what} is not installed (make code-server)")
    return Path(found)
