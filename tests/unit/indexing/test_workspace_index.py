"""The persistent workspace index on a real multi-file project: what it reads and skips, what a
restart re-reads, corrupt databases, chunks, navigation, the watcher and the worker processes."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from indexing import workspace as workspace_module
from indexing.chunks import MAX_LINES, chunk_file
from indexing.navigation import Navigator
from indexing.parsing import parse
from indexing.service import CodeIndex
from indexing.settings import IndexSettings
from indexing.store import SCHEMA_VERSION
from indexing.workspace import WorkspaceIndex
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "index_project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    # Ignored by the project's .gitignore, so created here rather than committed.
    (root / "build").mkdir()
    (root / "build" / "generated.py").write_text("def generated_function():\n    return 1\n")
    (root / "secret_keys.py").write_text("def secret_function():\n    return 2\n")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("function vendored() {}\n")
    (root / "web" / "vendor").mkdir()
    (root / "web" / ".gitignore").write_text("vendor/\n")
    (root / "web" / "vendor" / "big.ts").write_text("export function vendorTs() {}\n")
    return root


def open_index(root: Path, **settings: object) -> WorkspaceIndex:
    return WorkspaceIndex(root, IndexSettings(**settings), root.parent / "index.sqlite3")  # type: ignore[arg-type]


def position(text: str, word: str, nth: int = 0) -> int:
    """The byte offset of the nth occurrence of `word`."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(word, index + 1)
    return len(text[:index].encode("utf-8"))


def test_scan_indexes_source_and_skips_ignored_binary_and_large_files(project: Path) -> None:
    (project / "huge.py").write_text("x = 1\n" * 400_000)  # 2.4 MB, over a 1 MiB cap
    index = open_index(project, max_file_kb=1024)
    result = index.scan()
    assert sorted(index.store.files()) == [
        "shop/__init__.py", "shop/cart.py", "shop/models.py", "shop/pricing.py",
        "web/app.ts", "web/util.ts",
    ]  # fmt: skip
    assert result.indexed == 6
    # The configured excludes apply too.
    index.close()
    index = open_index(project, exclude=("web/",))
    index.scan()
    assert not any(path.startswith("web/") for path in index.store.files())


def test_restart_rereads_only_changed_files(project: Path) -> None:
    index = open_index(project)
    assert index.scan().indexed == 6
    index.close()
    pricing = project / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text() + "\n\ndef added_later() -> int:\n    return 1\n")
    models = project / "shop" / "models.py"
    os.utime(models, (time.time() + 5, time.time() + 5))  # touched, same content
    (project / "web" / "app.ts").unlink()
    (project / "shop" / "extra.py").write_text("def extra() -> None:\n    pass\n")

    index = open_index(project)
    result = index.scan()
    assert (result.indexed, result.removed) == (2, 1)  # pricing.py and extra.py; app.ts gone
    assert index.store.definitions_named("added_later")
    assert index.store.definitions_named("extra")
    assert index.scan().indexed == 0  # the touched file's new mtime was remembered


@pytest.mark.parametrize("damage", ["garbage", "old_schema"])
def test_a_corrupt_or_old_database_is_rebuilt(
    project: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    index = open_index(project)
    index.scan()
    db_path = index.db_path
    index.close()
    if damage == "garbage":
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        db_path.write_bytes(b"this is not a database" * 100)
    else:
        connection = sqlite3.connect(db_path)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        connection.commit()
        connection.close()
    with caplog.at_level(logging.WARNING):
        index = open_index(project)
    assert "rebuilding" in caplog.text
    assert index.store.rebuilt_because
    assert index.store.file_count() == 0  # nothing from the old database is served
    assert index.scan().indexed == 6
    assert index.store.definitions_named("apply_discount")


def test_chunks_are_whole_definitions_and_big_ones_are_split() -> None:
    small = "\n\n".join(f"def f{i}():\n    return {i}\n" for i in range(3))
    big_class = "class Big:\n" + "\n".join(
        f"    def m{i}(self):\n" + "        x = 1\n" * 8 + f"        return {i}\n"
        for i in range(12)
    )
    text = small + "\n\n" + big_class
    chunks = chunk_file(text, parse(text.encode(), "python"))
    assert all(c.end_row - c.start_row < MAX_LINES for c in chunks)
    # No method is cut in half: each chunk boundary falls between methods.
    for chunk in chunks:
        body = chunk.text.strip().split("\n")
        assert not body[0].startswith("        "), chunk.text
    rows = sorted({row for c in chunks for row in range(c.start_row, c.end_row + 1)})
    assert rows[-1] == text.rstrip("\n").count("\n")  # everything is covered
    # Without a tree, line windows.
    plain = chunk_file("a\n" * 150, None)
    assert [c.start_row for c in plain] == [0, 60, 120]


def test_definition_follows_imports_reexports_and_local_scopes(project: Path) -> None:
    index = open_index(project)
    index.scan()
    navigator = Navigator(index)
    cart = project / "shop" / "cart.py"
    text = cart.read_text()

    def where(word: str, nth: int = 0) -> list[tuple[str, int]]:
        places = navigator.definition(cart, text, "python", position(text, word, nth))
        return [(str(p.path.relative_to(project)), p.row) for p in places]

    assert where("apply_discount", 1) == [("shop/pricing.py", 5)]  # `from .pricing import`
    assert where("Item", 1) == [("shop/models.py", 4)]  # `from shop.models import`
    assert where("with_tax") == [("shop/pricing.py", 10)]  # `pricing.with_tax`, a module
    assert where("price = apply") == [("shop/cart.py", 14)]  # a local variable
    assert where("apply_discount * 2") == [("shop/cart.py", 23)]  # a shadowing parameter
    init = project / "shop" / "__init__.py"
    # Through a package's re-export: `from shop import apply_discount` lands in pricing.py.
    user = project / "shop" / "user.py"
    user.write_text("from shop import apply_discount\n\napply_discount(1, 2)\n")
    index.scan()
    user_text = user.read_text()
    places = navigator.definition(user, user_text, "python", position(user_text, "apply", 1))
    assert [(p.path.name, p.row) for p in places] == [("pricing.py", 5)]
    assert init.exists()
    app = project / "web" / "app.ts"
    app_text = app.read_text()
    places = navigator.definition(app, app_text, "typescript", position(app_text, "formatPrice", 1))
    assert [(p.path.name, p.row) for p in places] == [("util.ts", 0)]


def test_references_skip_shadowing_locals_strings_and_comments(project: Path) -> None:
    index = open_index(project)
    index.scan()
    navigator = Navigator(index)
    pricing = project / "shop" / "pricing.py"
    text = pricing.read_text()
    places = navigator.references(pricing, text, "python", position(text, "apply_discount"))
    found = sorted((str(p.path.relative_to(project)), p.row) for p in places)
    # Not cart.py:23-25 (a parameter of that name), not `__all__ = ["apply_discount"]`.
    assert found == [
        ("shop/__init__.py", 2), ("shop/cart.py", 3), ("shop/cart.py", 15),
        ("shop/pricing.py", 5),
    ]  # fmt: skip
    without = navigator.references(pricing, text, "python", position(text, "apply_discount"), False)
    assert ("shop/pricing.py", 5) not in [
        (str(p.path.relative_to(project)), p.row) for p in without
    ]
    # A local variable's references stay inside its function.
    cart = project / "shop" / "cart.py"
    cart_text = cart.read_text()
    local = navigator.references(cart, cart_text, "python", position(cart_text, "price = sum"))
    assert {p.row for p in local} == {14, 15, 16}


def test_workspace_symbols_are_fuzzy_and_ranked(project: Path) -> None:
    index = open_index(project)
    index.scan()
    navigator = Navigator(index)
    assert next(h.name for h in navigator.workspace_symbols("apply_discount")) == "apply_discount"
    assert navigator.workspace_symbols("apdis")[0].name == "apply_discount"
    assert navigator.workspace_symbols("PB")[0].name == "PriceBook"
    assert navigator.workspace_symbols("fmtpr")[0].name == "formatPrice"
    assert navigator.workspace_symbols("zzzz") == []


def test_watcher_follows_changes_on_disk(project: Path, tmp_path: Path) -> None:
    code_index = CodeIndex(project, IndexSettings(), tmp_path / "indexes")
    try:
        code_index.start().result(timeout=30)
        assert code_index.watcher is not None
        (project / "shop" / "discounts.py").write_text(
            "def seasonal_discount() -> float:\n    return 0.1\n"
        )
        (project / "shop" / "models.py").unlink()
        store = code_index.workspace.store
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if store.definitions_named("seasonal_discount") and not store.definitions_named("Item"):
                break
            time.sleep(0.05)
        assert store.definitions_named("seasonal_discount")
        assert not store.definitions_named("Item")
    finally:
        code_index.close()


def test_many_files_are_read_by_worker_processes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(workspace_module, "MAX_WORKERS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for i in range(20):
        (project / "shop" / f"generated_{i}.py").write_text(
            f"def generated_{i}() -> int:\n    return {i}\n"
        )
    index = open_index(project)
    assert index.scan().indexed == 26
    assert index.store.definitions_named("generated_19")
    assert index.store.definitions_named("apply_discount")


def test_a_changed_gitignore_applies_at_once(project: Path) -> None:
    index = open_index(project)
    index.scan()
    assert "web/app.ts" in index.store.files()
    (project / ".gitignore").write_text("build/\nweb/\n")
    index.update_paths([str(project / ".gitignore")])
    assert not any(path.startswith("web/") for path in index.store.files())
    (project / ".gitignore").write_text("build/\n")
    index.update_paths([str(project / ".gitignore")])
    assert "web/app.ts" in index.store.files()


def test_a_file_too_large_to_parse_still_gets_plain_chunks(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexing import parsing

    monkeypatch.setattr(parsing, "MAX_PARSE_BYTES", 200)
    big = project / "shop" / "big.py"
    big.write_text("".join(f"def handler_{i}(event):\n    return event\n\n" for i in range(40)))
    index = open_index(project)
    index.scan()
    assert not index.store.definitions_named("handler_3")  # not parsed
    hits = index.store.search_chunks(["handler_3"])
    assert [hit.path for hit in hits] == ["shop/big.py"]  # but searchable as text
