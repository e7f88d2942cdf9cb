"""A task's tool context on a real copy of a project, with the real sandbox: what the
pipeline and the tools run against in unit tests."""

from __future__ import annotations

from pathlib import Path

from agent.approvals import AllowAll, ApprovalRules
from agent.env.sandbox import Sandbox, probe
from agent.env.worktree import TaskTree
from agent.loop.tools import ToolContext
from agent.settings import AgentSettings
from tests.support.projects import TEST_COMMAND


def context_for(repo: Path, tmp_path: Path, timeout_s: int = 60) -> ToolContext:
    tree = TaskTree.create(repo, tmp_path / "task" / "tree")
    settings = AgentSettings(command_timeout_s=timeout_s)
    sandbox = Sandbox(tree.root, tmp_path / "task", settings, probe())
    rules = ApprovalRules("never", sandbox.layer)
    return ToolContext("t-pipe", tree, sandbox, rules, AllowAll(), TEST_COMMAND)
