"""Tasks end to end without a server: the manager, AGENTS.md, and the terminal entry point,
with a scripted model (its words don't matter here)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from agent.approvals import AllowAll
from agent.instructions import project_instructions
from agent.model import ScriptedAgentModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from agent.terminal import TerminalApprover, run_in_terminal, show_log
from tests.support.projects import CALC, TEST_COMMAND, commit_all


def call(tool: str, **args: object) -> str:
    return json.dumps({"thought": "", "tool": tool, "args": args})


FIX = [
    call("edit_file", path="calc.py", old="return a - b", new="return a + b"),
    call("run_tests"),
    call("finish", summary="add() adds"),
]


def manager(repo: Path, replies: list[str], **settings: object) -> tuple[TaskManager, list]:
    models: list[ScriptedAgentModel] = []

    def model_for(cancel: object) -> ScriptedAgentModel:
        models.append(ScriptedAgentModel(list(replies)))
        return models[-1]

    config = AgentSettings(test_command=TEST_COMMAND, **settings)  # type: ignore[arg-type]
    return TaskManager(repo, model_for, config, AllowAll()), models


def test_agents_md_reaches_the_model_root_first_and_capped(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("Use pytest. Keep functions small.\n")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "AGENTS.md").write_text("In pkg, every function has a docstring.\n")
    text = project_instructions(repo)
    assert text.index("Use pytest") < text.index("every function has a docstring")
    assert "applies to files under pkg/" in text
    assert len(project_instructions(repo, limit=60)) < 120
    tasks, models = manager(repo, FIX)
    state = tasks.wait(tasks.start("fix add", "low").id, timeout=60)
    assert state.status == "done"
    assert "Use pytest. Keep functions small." in models[0].prompts[0][0]["content"]


def test_done_task_keeps_its_copy_until_discarded(repo: Path) -> None:
    tasks, _ = manager(repo, FIX)
    state = tasks.wait(tasks.start("fix add", "low").id, timeout=60)
    assert state.status == "done" and [c.path for c in state.changes] == ["calc.py"]
    _, tree = tasks.finished(state.id)
    assert tree.path.exists() and (repo / "calc.py").read_text() == CALC
    assert tasks.discard(state.id).status == "discarded" and not tree.path.exists()
    tasks.close()


def test_failed_task_that_changed_nothing_removes_its_copy_and_refusal_starts_nothing(
    repo: Path,
) -> None:
    tasks, models = manager(repo, [call("list_files")] * 3, max_steps=2)
    state = tasks.wait(tasks.start("look around", "low").id, timeout=60)
    assert state.status == "failed" and "step limit (2)" in state.summary
    assert not list((Path(state.log).parent / state.id).glob("tree"))
    refused = tasks.start("write ransomware that encrypts the disk")
    assert refused.status == "refused" and len(models) == 1


PARTIAL = [
    call("edit_file", path="calc.py", old="return a - b", new="return a + b"),
    call("list_files"),
    call("list_files"),
]


def test_failed_task_keeps_its_partial_changes_for_review(repo: Path) -> None:
    tasks, _ = manager(repo, PARTIAL, max_steps=2)
    state = tasks.wait(tasks.start("fix add", "low").id, timeout=60)
    assert state.status == "failed" and "step limit (2)" in state.summary
    assert [c.path for c in state.changes] == ["calc.py"] and "+    return a + b" in state.diff
    _, tree = tasks.finished(state.id)  # ready to apply, like a finished task's
    assert tree.path.exists() and (repo / "calc.py").read_text() == CALC
    assert tasks.discard(state.id).status == "discarded" and not tree.path.exists()
    tasks.close()


def test_terminal_asks_before_applying_a_failed_tasks_partial_changes(repo: Path) -> None:
    questions: list[str] = []
    tasks, _ = manager(repo, PARTIAL, max_steps=2)
    out = io.StringIO()
    code = run_in_terminal(tasks, "fix add", "low", "never", "yes", out=out)
    assert code == 1 and "discarded; your files are unchanged" in out.getvalue()  # not by --apply
    assert (repo / "calc.py").read_text() == CALC
    tasks, _ = manager(repo, PARTIAL, max_steps=2)
    out = io.StringIO()
    code = run_in_terminal(tasks, "fix add", "low", "never", "ask",
                           ask=lambda q: questions.append(q) or "y", out=out)  # fmt: skip
    assert code == 1 and "did not finish" in questions[0]
    assert "applied to 1 file(s)" in out.getvalue()
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_terminal_applies_only_when_the_user_says_yes(repo: Path) -> None:
    tasks, _ = manager(repo, FIX)
    out = io.StringIO()
    code = run_in_terminal(tasks, "fix add", "low", "never", "ask", ask=lambda _: "n", out=out)
    assert code == 0 and "discarded; your files are unchanged" in out.getvalue()
    assert (repo / "calc.py").read_text() == CALC
    tasks, _ = manager(repo, FIX)
    out = io.StringIO()
    code = run_in_terminal(tasks, "fix add", "low", "never", "ask", ask=lambda _: "y", out=out)
    assert code == 0 and "applied to 1 file(s)" in out.getvalue()
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    task_id = out.getvalue().split()[1]
    log = io.StringIO()
    assert show_log(task_id, log) == 0
    assert "step 1: edit_file" in log.getvalue() and "done" in log.getvalue()


def test_terminal_approvals() -> None:
    from agent.approvals import ApprovalRequest, Decision

    request = ApprovalRequest("t1", "rm -rf build", "destructive", "rm")
    out = io.StringIO()
    assert TerminalApprover(lambda _: "y", out).ask(request) is Decision.ALLOW
    assert TerminalApprover(lambda _: "a", out).ask(request) is Decision.ALWAYS
    assert TerminalApprover(lambda _: "", out).ask(request) is Decision.DENY
    assert "rm -rf build" in out.getvalue()


def test_agent_log_without_an_id_lists_this_workspaces_tasks_newest_first(
    repo: Path, tmp_path: Path
) -> None:
    from agent.tasks import workspace_key
    from agent.terminal import list_logs

    out = io.StringIO()
    assert list_logs(workspace_key(tmp_path / "elsewhere"), out) == 0
    assert "no agent tasks have run in this workspace yet" in out.getvalue()
    tasks, _ = manager(repo, FIX)
    first = tasks.wait(tasks.start("fix add", "low").id, timeout=60)
    second = tasks.wait(tasks.start("fix add again", "low").id, timeout=60)
    tasks.close()
    out = io.StringIO()
    assert list_logs(workspace_key(repo), out) == 0
    listed = out.getvalue()
    assert listed.index(second.id) < listed.index(first.id)  # newest first
    assert "'fix add again'" in listed and "done: add() adds" in listed
    assert "treellama agent log ID" in listed


def test_one_word_that_names_nothing_gets_a_question_and_starts_nothing(repo: Path) -> None:
    import pytest

    from agent.tasks import VagueInstruction
    from agent.vague import question_for

    tasks, models = manager(repo, FIX)
    for word in ("log", "please", "stuff"):
        with pytest.raises(VagueInstruction, match="names no file, symbol, test or error"):
            tasks.start(word)
    assert models == [] and tasks.list() == []
    # A word that names a file, a definition, a test or an error is something to act on.
    for word in ("calc.py", "calc", "add", "test_add", "ZeroDivisionError", "E501"):
        assert question_for(word, repo) is None, word
    assert question_for("fix the log", repo) is None  # more than one word: the task runs


def test_an_unverified_change_exits_with_its_own_status(repo: Path) -> None:
    """No test checks the change (the tests may not run under `never`): the task is done,
    but the terminal says UNVERIFIED and exits with EXIT_UNVERIFIED, not success."""
    from agent.model import ScriptedCandidateModel
    from agent.terminal import EXIT_UNVERIFIED

    (repo / "test_calc.py").unlink()  # no tests, and the one written passes on the original
    commit_all(repo)
    passing = "from calc import add\n\n\ndef test_zero():\n    assert add(0, 0) == 0\n```"
    fixed = "def add(a, b):\n    return a + b\n```"
    config = AgentSettings(test_command=TEST_COMMAND, strategy="pipeline")
    tasks = TaskManager(repo, lambda cancel: ScriptedCandidateModel([passing] + [fixed] * 3),
                        config, AllowAll())  # fmt: skip
    out = io.StringIO()
    code = run_in_terminal(tasks, "fix add in calc.py", "low", "never", "no", out=out)
    assert code == EXIT_UNVERIFIED == 3, out.getvalue()
    assert "done, UNVERIFIED:" in out.getvalue() and "no test checks this change" in out.getvalue()
    tasks.close()
