"""The task's isolated copy: it starts from what the user sees, never touches the user's
files, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from agent.env.worktree import TaskTree
from tests.support.projects import CALC, git


def test_git_worktree_carries_uncommitted_work_but_not_secrets(repo: Path, tmp_path: Path) -> None:
    (repo / "calc.py").write_text(CALC + "\n# work in progress\n")
    (repo / "notes.py").write_text("NOTES = 1\n")
    (repo / "test_calc.py").unlink()
    (repo / ".env").write_text("API_KEY=supersecret123\n")
    tree = TaskTree.create(repo, tmp_path / "t" / "tree")
    assert tree.kind == "git-worktree"
    assert (tree.root / "calc.py").read_text().endswith("# work in progress\n")
    assert (tree.root / "notes.py").exists() and not (tree.root / "test_calc.py").exists()
    assert not (tree.root / ".env").exists()
    (tree.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tree.root / "new.py").write_text("X = 1\n")
    (tree.root / "notes.py").unlink()
    (tree.root / "__pycache__").mkdir()
    (tree.root / "__pycache__" / "calc.cpython-311.pyc").write_bytes(b"\0\1")
    changes = {c.path: c for c in tree.changes()}
    assert set(changes) == {"calc.py", "new.py", "notes.py"}
    assert changes["new.py"].before is None and changes["notes.py"].after is None
    assert "+    return a + b" in changes["calc.py"].unified()
    assert (repo / "calc.py").read_text().endswith("# work in progress\n")  # untouched
    assert not tree.user_changed("calc.py")
    (repo / "calc.py").write_text("changed by the user\n")
    assert tree.user_changed("calc.py")
    tree.remove()
    assert not tree.path.exists()
    assert str(tree.path) not in git(repo, "worktree", "list")
    assert git(repo, "status", "--porcelain").count("\n") == 3  # the user's own changes only


def test_subfolder_of_a_repository(repo: Path, tmp_path: Path) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "mod.py").write_text("A = 1\n")
    tree = TaskTree.create(repo / "pkg", tmp_path / "t" / "tree")
    assert tree.root == tree.path / "pkg" and (tree.root / "mod.py").exists()
    (tree.root / "mod.py").write_text("A = 2\n")
    assert [c.path for c in tree.changes()] == ["mod.py"]
    tree.remove()


def test_plain_folder_is_copied(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("A = 1\n")
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    tree = TaskTree.create(folder, tmp_path / "t" / "tree")
    assert tree.kind == "copy" and (tree.root / "a.py").exists()
    assert not (tree.root / "id_rsa").exists()
    (tree.root / "a.py").write_text("A = 2\n")
    assert [c.path for c in tree.changes()] == ["a.py"]
    tree.remove()
    assert (folder / "a.py").read_text() == "A = 1\n" and not tree.path.exists()
