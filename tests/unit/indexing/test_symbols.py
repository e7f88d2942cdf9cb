"""Symbols, folds and selections from tree-sitter, on a small real file per language."""

from __future__ import annotations

import pytest

from indexing.grammars import CORE_LANGUAGES
from indexing.languages import language_for
from indexing.parsing import MAX_PARSE_BYTES, parse, tags_query
from indexing.structure import enclosing_nodes, folds
from indexing.symbols import definitions, document_symbols
from tests.support import paths

FIXTURES = paths.FIXTURES / "languages"

EXPECTED = {
    "shapes.py": {"UNIT", "Shape", "area", "Circle", "__init__", "total_area"},
    "shapes.ts": {"Shape", "area", "Named", "Circle", "constructor", "totalArea", "double"},
    "shapes.tsx": {"Shape", "area", "Circle", "constructor", "totalArea", "double", "CircleView"},
    "shapes.js": {"Circle", "constructor", "area", "totalArea", "double"},
    "shapes.rs": {"Shape", "area", "Circle", "total_area"},
    "shapes.go": {"Shape", "Circle", "Area", "TotalArea"},
    "Shapes.java": {"Shapes", "Shape", "area", "Circle", "totalArea"},
    "shapes.c": {"circle", "circle_t", "circle_area"},
    "shapes.cpp": {"shapes", "Circle", "Circle::area"},
    "Shapes.cs": {"Geometry", "IShape", "Area", "Circle"},
    "shapes.rb": {"Shapes", "Circle", "initialize", "area"},
    "shapes.php": {"Shape", "area", "Circle", "__construct", "total_area"},
    "shapes.sh": {"circle_area", "total"},
    "shapes.lua": {"circle_area", "total"},
    "shapes.sql": {"circles", "big_circles"},
}


def tree_of(name: str):
    source = (FIXTURES / name).read_bytes()
    language = language_for(None, name)
    assert language is not None
    return parse(source, language), language


def test_every_core_language_has_a_fixture_and_a_query():
    covered = {language_for(None, name) for name in EXPECTED}
    assert covered == set(CORE_LANGUAGES)
    assert all(tags_query(language) is not None for language in CORE_LANGUAGES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_definitions_per_language(name):
    tree, language = tree_of(name)
    found = {symbol.name for symbol in definitions(tree, language)}
    assert EXPECTED[name] <= found, f"{name}: missing {EXPECTED[name] - found}"


def outline(symbols, depth=0):
    items = []
    for symbol in symbols:
        items.append((depth, symbol.kind, symbol.name))
        items += outline(symbol.children, depth + 1)
    return items


def test_python_outline_is_hierarchical():
    tree, language = tree_of("shapes.py")
    assert outline(document_symbols(tree, language)) == [
        (0, "constant", "UNIT"),
        (0, "class", "Shape"),
        (1, "method", "area"),
        (0, "class", "Circle"),
        (1, "method", "__init__"),
        (1, "method", "area"),
        (0, "function", "total_area"),
    ]


def test_typescript_and_rust_outlines():
    tree, language = tree_of("shapes.ts")
    ts = outline(document_symbols(tree, language))
    assert (0, "interface", "Shape") in ts and (1, "method", "area") in ts
    assert ts.index((0, "class", "Circle")) < ts.index((1, "method", "constructor"))
    tree, language = tree_of("shapes.rs")
    rust = outline(document_symbols(tree, language))
    assert (0, "interface", "Shape") in rust and (0, "impl", "Circle") in rust
    assert rust[rust.index((0, "impl", "Circle")) + 1] == (1, "method", "area")


def test_folds_and_selection_chain():
    tree, _ = tree_of("shapes.py")
    fold_lines = {(f.start_line, f.end_line) for f in folds(tree)}
    assert (5, 7) in fold_lines  # class Shape
    assert (10, 15) in fold_lines  # class Circle
    source = (FIXTURES / "shapes.py").read_bytes()
    offset = source.index(b"radius**2")
    chain = [node.type for node in enclosing_nodes(tree, offset)]
    assert chain[0] == "identifier" and chain[-1] == "module"
    assert "function_definition" in chain and "class_definition" in chain


def test_degrades_instead_of_failing():
    assert parse(b"x" * (MAX_PARSE_BYTES + 1), "python") is None
    assert parse(b"whatever", "no-such-language") is None
    assert language_for("plaintext", "notes.txt") is None
    broken, language = parse(b"def broken(:\n  pass\nclass Ok:\n  pass\n", "python"), "python"
    assert "Ok" in {s.name for s in definitions(broken, language)}  # error recovery
