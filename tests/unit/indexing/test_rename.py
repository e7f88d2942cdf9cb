"""Rename from the index across a small multi-file Python and TypeScript project: exact
renames, and refusals instead of guesses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexing.navigation import Navigator
from indexing.rename import RenameRefused, prepare, rename
from indexing.settings import IndexSettings
from indexing.workspace import WorkspaceIndex
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "index_project"


@pytest.fixture
def navigator(tmp_path: Path) -> Navigator:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    index = WorkspaceIndex(root, IndexSettings(), tmp_path / "index.sqlite3")
    index.scan()
    return Navigator(index)


def offset(text: str, word: str, nth: int = 0) -> int:
    index = -1
    for _ in range(nth + 1):
        index = text.index(word, index + 1)
    return len(text[:index].encode("utf-8"))


def renamed(navigator: Navigator, relative: str, word: str, nth: int, new_name: str) -> dict:
    path = navigator.index.root / relative
    text = path.read_text()
    language = "typescript" if relative.endswith(".ts") else "python"
    result = rename(navigator, path, text, language, offset(text, word, nth), new_name)
    root = navigator.index.root
    return {
        str(file.relative_to(root)): sorted((p.row, p.col) for p in places)
        for file, places in result.places.items()
    }


def test_a_function_is_renamed_in_every_file_that_imports_it(navigator: Navigator) -> None:
    found = renamed(navigator, "shop/cart.py", "apply_discount", 1, "discounted")
    assert found == {
        "shop/__init__.py": [(2, 21), (4, 12)],  # the import, and `__all__ = ["apply_discount"]`
        "shop/cart.py": [(3, 31), (15, 16)],  # not the parameter of the same name at line 24
        "shop/pricing.py": [(5, 4)],
    }


def test_module_attribute_uses_are_renamed_too(navigator: Navigator) -> None:
    found = renamed(navigator, "shop/pricing.py", "with_tax", 0, "plus_tax")
    assert found == {"shop/cart.py": [(16, 23)], "shop/pricing.py": [(10, 4)]}


def test_a_local_variable_is_renamed_only_in_its_function(navigator: Navigator) -> None:
    found = renamed(navigator, "shop/cart.py", "price = sum", 0, "subtotal")
    assert found == {"shop/cart.py": [(14, 8), (15, 8), (15, 31), (16, 32)]}


def test_typescript_exports_are_renamed_across_files(navigator: Navigator) -> None:
    found = renamed(navigator, "web/app.ts", "formatPrice", 1, "formatMoney")
    assert found == {"web/app.ts": [(0, 9), (3, 16)], "web/util.ts": [(0, 16)]}


@pytest.mark.parametrize(
    ("relative", "word", "nth", "new_name", "reason"),
    [
        ("shop/cart.py", "apply_discount", 1, "class", "not a valid name"),
        ("shop/cart.py", "apply_discount", 1, "with_tax", "already defined in shop/pricing.py"),
        ("shop/cart.py", "price = sum", 0, "percent", "already used in this function"),
        ("shop/cart.py", "append", 0, "push", "attribute"),
        ("shop/cart.py", "sum(", 0, "total", "not defined in this workspace"),
    ],
)
def test_ambiguous_or_unsafe_renames_are_refused(
    navigator: Navigator, relative: str, word: str, nth: int, new_name: str, reason: str
) -> None:
    with pytest.raises(RenameRefused, match=reason):
        renamed(navigator, relative, word, nth, new_name)


def test_a_name_defined_twice_is_refused_not_guessed(navigator: Navigator) -> None:
    root = navigator.index.root
    (root / "shop" / "legacy.py").write_text("def with_tax(price):\n    return price\n")
    (root / "shop" / "report.py").write_text("print(with_tax(3))\n")
    navigator.index.scan()
    with pytest.raises(RenameRefused, match="several definitions"):
        renamed(navigator, "shop/report.py", "with_tax", 0, "plus_tax")


def test_prepare_gives_the_range_of_the_name(navigator: Navigator) -> None:
    path = navigator.index.root / "shop" / "cart.py"
    text = path.read_text()
    place = prepare(navigator, path, text, "python", offset(text, "apply_discount", 1) + 3)
    assert (place.row, place.col, place.end_col) == (15, 16, 30)
