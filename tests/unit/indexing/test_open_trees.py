"""Incremental reparsing of open documents matches a fresh parse after every edit."""

from __future__ import annotations

from indexing.open_trees import OpenTrees, TextChange
from indexing.parsing import parse
from indexing.symbols import definitions

START = "class Shape:\n    def area(self):\n        return 0\n\n\ndef total(s):\n    return 1\n"


def edit(text: str, old: str, new: str) -> tuple[str, TextChange]:
    at = text.index(old)
    return text[:at] + new + text[at + len(old) :], TextChange(at, at + len(old), new)


def test_incremental_edits_give_the_same_tree_as_a_fresh_parse():
    trees = OpenTrees()
    trees.opened("u", "python", START, 1).result()
    text = START
    steps = [
        ("def total", "def grand_total"),
        ("return 0", "return 3.14 * r ** 2  # é, two bytes in UTF-8"),
        ("\n\n\ndef", "\n\n\ndef circle(r):\n    return r\n\n\ndef"),
    ]
    for version, (old, new) in enumerate(steps, start=2):
        new_text, change = edit(text, old, new)
        trees.changed("u", text, [change], version).result()
        text = new_text
        tree = trees.tree("u", version).result()
        assert str(tree.root_node) == str(parse(text.encode(), "python").root_node)
    names = {s.name for s in definitions(trees.tree("u", len(steps) + 1).result(), "python")}
    assert names == {"Shape", "area", "grand_total", "circle"}
    assert trees.incremental_parses == len(steps) and trees.full_parses == 1


def test_whole_document_changes_and_stale_versions():
    trees = OpenTrees()
    trees.opened("u", "python", "x = 1\n", 1).result()
    trees.changed("u", "x = 1\n", [TextChange(None, None, "def f():\n    pass\n")], 2).result()
    assert {s.name for s in definitions(trees.tree("u", 2).result(), "python")} == {"f"}
    assert trees.tree("u", 1).result() is None  # never serves a tree for another version
    trees.closed("u")
    assert trees.tree("u", 2).result() is None
