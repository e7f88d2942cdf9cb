"""The code index over LSP, with no model installed: the scan under progress, definition,
references, workspace/symbol, treellama.showContext, and an edit on disk followed live."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.support.lsp_client import INDEX_PROJECT, open_document, wait_for_index, wait_for_model

pytestmark = pytest.mark.e2e


def at(text: str, word: str, nth: int = 0) -> types.Position:
    index = -1
    for _ in range(nth + 1):
        index = text.index(word, index + 1)
    line = text[:index].count("\n")
    return types.Position(line, index - (text.rfind("\n", 0, index) + 1))


def where(locations: list[types.Location]) -> list[tuple[str, int, int]]:
    return sorted(
        (loc.uri.rsplit("/index_project/", 1)[1], loc.range.start.line, loc.range.start.character)
        for loc in locations
    )


async def test_scan_reports_progress_and_navigation_works_without_a_model(
    indexed: LanguageClient,
) -> None:
    status = await wait_for_index(indexed)
    assert status["files"] >= 6

    def index_reports() -> list:
        return [
            report
            for token, reports in indexed.progress_reports.items()
            if "index" in str(token)
            for report in reports
        ]

    # The scan is done before its progress end notification is sent: wait for it.
    for _ in range(100):
        reports = index_reports()
        if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.05)
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert any(getattr(r, "percentage", None) == 100 for r in reports)

    cart = INDEX_PROJECT / "shop" / "cart.py"
    text = cart.read_text()
    uri = open_document(indexed, cart)
    found = await indexed.text_document_definition_async(
        types.DefinitionParams(types.TextDocumentIdentifier(uri), at(text, "apply_discount", 1))
    )
    assert where(found) == [("shop/pricing.py", 5, 4)]

    refs = await indexed.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=at(text, "apply_discount", 1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert where(refs) == [
        ("shop/__init__.py", 2, 21), ("shop/cart.py", 3, 31), ("shop/cart.py", 15, 16),
        ("shop/pricing.py", 5, 4),
    ]  # fmt: skip

    symbols = await indexed.workspace_symbol_async(types.WorkspaceSymbolParams(query="PriBo"))
    assert symbols[0].name == "PriceBook"
    assert symbols[0].kind == types.SymbolKind.Class
    assert symbols[0].location.uri.endswith("shop/pricing.py")

    app = INDEX_PROJECT / "web" / "app.ts"
    app_text = app.read_text()
    indexed.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(app.as_uri(), "typescript", 1, app_text)
        )
    )
    found = await indexed.text_document_definition_async(
        types.DefinitionParams(
            types.TextDocumentIdentifier(app.as_uri()), at(app_text, "formatPrice", 1)
        )
    )
    assert where(found) == [("web/util.ts", 0, 16)]


async def test_show_context_explains_each_snippet(indexed: LanguageClient) -> None:
    await wait_for_index(indexed)
    cart = INDEX_PROJECT / "shop" / "cart.py"
    text = cart.read_text()
    uri = open_document(indexed, cart)
    shown = await indexed.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="treellama.showContext",
            arguments=[{"uri": uri, "position": {"line": 15, "character": 8}}],
        )
    )
    assert shown["indexReady"] is True
    first = shown["snippets"][0]
    assert first["path"] == "shop/pricing.py" and first["kind"] == "definition"
    assert "apply_discount" in first["reason"]
    assert first["text"].startswith("def apply_discount")
    assert shown["elapsedMs"] < 5000
    assert text  # the document the context is for


async def test_changes_on_disk_and_in_the_editor_reach_the_index(indexed: LanguageClient) -> None:
    await wait_for_index(indexed)
    new_file = INDEX_PROJECT / "shop" / f"coupons_{int(time.time() * 1000)}.py"
    new_file.write_text("def redeem_coupon(code: str) -> float:\n    return 0.5\n")
    try:
        deadline = time.monotonic() + 15
        names: list[str] = []
        while time.monotonic() < deadline:
            symbols = await indexed.workspace_symbol_async(
                types.WorkspaceSymbolParams(query="redeem_coupon")
            )
            names = [s.name for s in symbols or []]
            if "redeem_coupon" in names:
                break
            await asyncio.sleep(0.1)
        assert "redeem_coupon" in names
    finally:
        new_file.unlink()

    # An unsaved edit in the editor is indexed too, once typing pauses.
    models = INDEX_PROJECT / "shop" / "models.py"
    uri = open_document(indexed, models)
    indexed.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(
                    models.read_text() + "\n\nclass Basket:\n    pass\n"
                )
            ],
        )
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        symbols = await indexed.workspace_symbol_async(types.WorkspaceSymbolParams(query="Basket"))
        if symbols and symbols[0].name == "Basket":
            break
        await asyncio.sleep(0.1)
    assert symbols and symbols[0].name == "Basket"
    assert not (INDEX_PROJECT / "shop" / "models.py").read_text().count("Basket")  # disk untouched


async def test_retrieved_definitions_reach_the_completion_prompt(
    indexed_with_model: LanguageClient,
) -> None:
    client = indexed_with_model
    await wait_for_index(client)
    await wait_for_model(client)
    cart = INDEX_PROJECT / "shop" / "cart.py"
    text = cart.read_text()
    cursor = at(text, "apply_discount(price")
    blanked = text.replace("apply_discount(price, percent)", "", 1)
    uri = open_document(client, cart, blanked)
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
            text_document=types.TextDocumentIdentifier(uri),
            position=cursor,
        )
    )
    assert result is not None
    last = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    assert {"path": "shop/pricing.py", "source": "index"} in last["chunks"]
    definition = "def apply_discount(price: float, percent: float) -> float:"
    assert f"<|file_sep|>shop/pricing.py\n{definition}" in last["prompt"]
    # Context goes before the current file, which stays last, before the FIM core.
    assert last["prompt"].index(definition) < last["prompt"].index("<|file_sep|>shop/cart.py")
