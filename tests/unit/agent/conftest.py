"""Fixtures for agent tests: the calc project (tests/support/projects.py) and a tool context
on a real isolated copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.approvals import AllowAll, ApprovalRules
from agent.env.sandbox import Sandbox, probe
from agent.env.worktree import TaskTree
from agent.loop.tools import ToolContext
from agent.settings import AgentSettings
from tests.support.projects import TEST_COMMAND, make_repo


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
