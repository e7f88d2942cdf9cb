"""`treellama agent` in a terminal, as a user types it: the real command, the real embedded
model, a real project with a failing test. Listing logs and asking back need no model."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support import screenshots
from tests.support.projects import make_repo

pytestmark = pytest.mark.e2e


def treellama(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip


def test_agent_log_lists_and_one_word_asks_back_without_loading_a_model(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh-project")
    started = time.monotonic()
    listed = treellama("agent", "log", cwd=repo)
    asked = treellama("agent", "stuff", cwd=repo)
    assert time.monotonic() - started < 60
    assert listed.returncode == 0, listed.stderr
    assert "no agent tasks have run in this workspace yet" in listed.stdout
    assert asked.returncode == 2
    assert "question:" in asked.stderr and "names no file, symbol, test or error" in asked.stderr
    for run in (listed, asked):
        assert "loading" not in run.stderr  # no model was loaded


def test_a_screenshot_outside_the_project_is_read_under_never(tmp_path: Path) -> None:
    """`--image ~/Desktop/shot.png --approval-policy never`: the user typed the path, so it
    is read; then the task's log is listed without an id."""
    repo = make_repo(tmp_path / "project")
    desktop = Path(tempfile.mkdtemp(prefix="treellama-desktop-"))
    shot = desktop / "shot.png"
    shot.write_bytes(screenshots.error_dialog().image)
    done = treellama(
        "agent", "make the failing test in test_calc.py pass", "--image", str(shot),
        "--approval-policy", "never", "--effort", "low", "--apply", "no", cwd=repo,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "image: " in done.stdout and "ValueError" in done.stdout, done.stdout
    assert "image refused" not in done.stdout
    assert "/29]" not in done.stdout  # pipeline steps show no total they can run past
    listed = treellama("agent", "log", cwd=repo)
    task_id = done.stdout.split()[1]
    assert task_id in listed.stdout and "make the failing test" in listed.stdout
    # The terminal builds its services as the editor does (lsp_server.services): the task's
    # search reads the workspace's code index.
    shown = treellama("agent", "log", task_id, cwd=repo)
    assert "code index: yes" in shown.stdout, shown.stdout
