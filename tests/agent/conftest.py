"""A tiny git project with a failing test, for agent tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.approvals import AllowAll, ApprovalRules
from agent.sandbox import Sandbox, probe
from agent.settings import AgentSettings
from agent.tool_calls import ToolCall
from agent.tools import ToolContext
from agent.worktree import TaskTree

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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


@pytest.fixture
def context(repo: Path, tmp_path: Path) -> ToolContext:
    tree = TaskTree.create(repo, tmp_path / "task" / "tree")
    settings = AgentSettings(command_timeout_s=60)
    sandbox = Sandbox(tree.root, tmp_path / "task", settings, probe())
    rules = ApprovalRules("on-request", sandbox.layer)
    yield ToolContext("t-test", tree, sandbox, rules, AllowAll(), TEST_COMMAND)
    tree.remove()
