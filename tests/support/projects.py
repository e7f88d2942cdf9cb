"""A tiny git project with a failing test (calc.py), for agent tests of every tier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent.tool_calls import ToolCall

CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
TEST_COMMAND = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def write_fix_add_script(path: Path) -> Path:
    """The replies of a scripted agent model (for editor tests, where its words don't matter)
    that fixes make_repo's add(), runs the tests and finishes."""
    replies = [
        ToolCall("", "edit_file",
                 {"path": "calc.py", "old": "return a - b", "new": "return a + b"}),
        ToolCall("", "run_tests", {}),
        ToolCall("", "finish", {"summary": "add() adds"}),
    ]  # fmt: skip
    path.write_text(json.dumps([reply.render() for reply in replies]))
    return path


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST_CALC)
    (root / ".gitignore").write_text("__pycache__/\n.env\n")
    git(root, "init", "-q")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "init")
    return root
