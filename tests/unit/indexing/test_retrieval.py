"""Retrieval for the prompt on a real multi-file project, the file graph's ranking, and the
plain Python API the agent will use."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from indexing.graph import build_file_graph, personalized_pagerank
from indexing.retrieval import Retriever, names_near
from indexing.service import CodeIndex
from indexing.settings import IndexSettings
from indexing.workspace import WorkspaceIndex
from lsp_server.index_context import IndexContextSource
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "index_project"


@pytest.fixture
def index(tmp_path: Path) -> WorkspaceIndex:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    workspace = WorkspaceIndex(root, IndexSettings(), tmp_path / "index.sqlite3")
    workspace.scan()
    return workspace


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n")


def test_definitions_used_near_the_cursor_come_first_with_their_reason(
    index: WorkspaceIndex,
) -> None:
    retriever = Retriever(index)
    cart = index.root / "shop" / "cart.py"
    text = cart.read_text()
    found = retriever.retrieve(cart, text, line_of(text, "price = apply_discount"))
    first = found.snippets[0]
    assert (first.path, first.kind) == ("shop/pricing.py", "definition")
    assert first.text.startswith("def apply_discount(price: float, percent: float) -> float:")
    assert "apply_discount" in first.reason and "imported" in first.reason
    assert all(s.path != "shop/cart.py" for s in found.snippets)  # the file is in the prompt
    # Scores are ranked, and no two snippets overlap.
    assert [s.score for s in found.snippets] == sorted(
        (s.score for s in found.snippets), reverse=True
    )
    spans = [(s.path, s.start_row, s.end_row) for s in found.snippets]
    for i, (path, start, end) in enumerate(spans):
        for other_path, other_start, other_end in spans[i + 1 :]:
            assert path != other_path or end < other_start or other_end < start


def test_similar_code_comes_from_bm25_and_enclosing_signatures_from_above_the_window(
    index: WorkspaceIndex,
) -> None:
    retriever = Retriever(index)
    app = index.root / "web" / "app.ts"
    text = app.read_text()
    found = retriever.retrieve(app, text, line_of(text, "return `"), window_start=4)
    kinds = {s.kind: s for s in found.snippets}
    assert kinds["definition"].path == "web/util.ts"
    assert kinds["enclosing"].text == "export function render(total: number): string {"
    search = retriever.search_code("formatPrice value")
    assert search and search[0].path == "web/util.ts"
    assert retriever.find_symbol("fmtPrice")[0].name == "formatPrice"


def test_gathering_stops_at_the_deadline(index: WorkspaceIndex) -> None:
    retriever = Retriever(index)
    cart = index.root / "shop" / "cart.py"
    text = cart.read_text()
    started = time.monotonic()
    found = retriever.retrieve(cart, text, 15, budget_ms=0.001)
    assert found.timed_out
    assert time.monotonic() - started < 1.0


def test_names_near_the_cursor_are_nearest_first_without_keywords() -> None:
    lines = ["import os", "def run(path):", "    data = load(path)", "    return parse(data)"]
    assert names_near(lines, 3)[:4] == ["data", "parse", "path", "load"]
    assert "return" not in names_near(lines, 3)


def test_file_graph_links_users_to_definers_and_pagerank_follows_it(index: WorkspaceIndex) -> None:
    graph = build_file_graph(index.store)
    assert "shop/pricing.py" in graph["shop/cart.py"]
    assert graph["web/app.ts"] == {"web/util.ts": 1.0}
    ranks = personalized_pagerank(graph, {"shop/cart.py": 1.0})
    assert ranks["shop/pricing.py"] > ranks.get("web/util.ts", 0.0)
    # A tiny chain: a -> b -> c. Mass decays along it.
    chain = {"a": {"b": 1.0}, "b": {"c": 1.0}}
    ranks = personalized_pagerank(chain, {"a": 1.0}, epsilon=1e-6)
    assert ranks["a"] > ranks["b"] > ranks["c"] > 0
    assert abs(sum(ranks.values()) - 1.0) < 0.01


def test_the_completion_context_source_gives_chunks_best_last(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    code_index = CodeIndex(root, IndexSettings(watch=False), tmp_path / "indexes")
    try:
        code_index.start().result(timeout=30)
        cart = root / "shop" / "cart.py"
        text = cart.read_text()
        line = line_of(text, "price = apply_discount")
        source = IndexContextSource(code_index, enabled=lambda: True)
        chunks = source.chunks_for(cart.as_uri(), "shop/cart.py", text, line, 0)
        assert chunks[-1].path == "shop/pricing.py"
        assert chunks[-1].text.startswith("def apply_discount")
        assert {c.source for c in chunks} == {"index"}
        off = IndexContextSource(code_index, enabled=lambda: False)
        assert off.chunks_for(cart.as_uri(), "shop/cart.py", text, line, 0) == ()
    finally:
        code_index.close()
