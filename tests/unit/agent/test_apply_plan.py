"""Which of a task's changes may be applied, decided once for every front end: a real task
copy, changed by the "task", while the "user" edits one of the same files."""

from __future__ import annotations

from pathlib import Path

from agent.apply_plan import plan_apply, read_disk_strict
from agent.env.worktree import TaskTree


def test_files_the_user_changed_since_are_left_out_and_named(repo: Path, tmp_path: Path) -> None:
    (repo / "notes.txt").write_text("keep\n")
    tree = TaskTree.create(repo, tmp_path / "task")
    (tree.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tree.root / "test_calc.py").write_text("# the task rewrote it\n")
    (tree.root / "new.py").write_text("X = 1\n")
    (tree.root / "notes.txt").unlink()
    (repo / "test_calc.py").write_text("# the user rewrote it meanwhile\n")

    plan = plan_apply(tree.changes(), tree, read_disk_strict(tree))

    assert [c.path for c in plan.changes] == ["calc.py", "new.py"]
    assert plan.skipped == ["test_calc.py (changed since the task started)"]
    assert plan.deletions == ["notes.txt"]
    (calc, new) = plan.changes
    assert calc.original == "def add(a, b):\n    return a - b\n" and len(calc.edits) == 1
    assert new.original is None and new.new_text == "X = 1\n"


def test_an_open_buffer_counts_as_the_users_text(repo: Path, tmp_path: Path) -> None:
    tree = TaskTree.create(repo, tmp_path / "task")
    (tree.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    unsaved = {"calc.py": ("def add(a, b):\n    return a - b  # unsaved\n", 7)}
    plan = plan_apply(tree.changes(), tree, lambda p: unsaved.get(p, (None, None)))
    assert plan.empty and plan.skipped == ["calc.py (changed since the task started)"]
    same = {"calc.py": ("def add(a, b):\n    return a - b\n", 3)}
    plan = plan_apply(tree.changes(), tree, lambda p: same.get(p, (None, None)))
    assert [c.path for c in plan.changes] == ["calc.py"] and plan.versions == {"calc.py": 3}


def test_a_file_is_replaced_in_one_step_keeping_its_mode(tmp_path) -> None:
    import os
    import stat

    from agent.apply_plan import write_atomically

    script = tmp_path / "run.sh"
    script.write_text("echo old\n")
    os.chmod(script, 0o755)
    write_atomically(script, "echo new\r\n")
    assert script.read_bytes() == b"echo new\r\n"  # as given: no newline translation
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]  # no temporary file left
