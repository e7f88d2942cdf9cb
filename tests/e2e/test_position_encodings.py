"""Every position-bearing feature in each position encoding a client can negotiate, on lines
where é, ß, ö, € and 😀 (a UTF-16 surrogate pair) come before the position: the real server
over stdio, with the real default model for completion and code actions.

The client offers a single encoding, so the server must use it; expected positions are
computed by encoding the text (tests.support.lsp_text), independently of the server's code.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from agent.editing.edits import syntax_errors
from tests.support.lsp_client import (
    FIXTURES,
    editor_capabilities,
    server_config,
    wait_for_index,
    wait_for_model,
)
from tests.support.lsp_text import apply_edits, position, units

pytestmark = pytest.mark.e2e

PROJECT = Path(tempfile.mkdtemp(prefix="treellama-unicode-")) / "unicode_project"
shutil.copytree(FIXTURES / "unicode_project", PROJECT)
GEOMETRY = PROJECT / "geometry.py"
TEXT = GEOMETRY.read_text(encoding="utf-8")
URI = GEOMETRY.as_uri()
RETURN_LINE = '    label = "größe 😀 €"; return w * h * größe  # done'


def at(text: str, needle: str, encoding: str, shift: int = 0) -> types.Position:
    return position(text, text.index(needle) + shift, encoding)


@pytest_lsp.fixture(params=["utf-8", "utf-16", "utf-32"], config=server_config())
async def negotiated(request, lsp_client: LanguageClient):
    caps = editor_capabilities("neovim")
    caps.general = types.GeneralClientCapabilities(position_encodings=[request.param])
    assert caps.text_document is not None
    caps.text_document.inline_completion = None  # so that plain completion answers too
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            workspace_folders=[types.WorkspaceFolder(PROJECT.as_uri(), PROJECT.name)],
        )
    )
    assert result.capabilities.position_encoding == request.param
    lsp_client.encoding = request.param
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "python", 1, TEXT))
    )
    yield
    await lsp_client.shutdown_session()


def edit_list(edit: types.WorkspaceEdit) -> list:
    """The text edits for the one document, whichever shape the client's capabilities got."""
    if edit.document_changes:
        return [e for change in edit.document_changes for e in change.edits]
    return list((edit.changes or {}).get(URI, []))


async def command(client: LanguageClient, name: str, *arguments: object) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(arguments))
    )


async def test_navigation_symbols_and_ranges(negotiated: LanguageClient) -> None:
    enc = negotiated.encoding
    await wait_for_index(negotiated)
    document = types.TextDocumentIdentifier(URI)
    usage_offset = TEXT.index("* größe  # done") + 2
    usage = position(TEXT, usage_offset, enc)
    usage_range = types.Range(usage, position(TEXT, usage_offset + len("größe"), enc))
    definition_range = types.Range(
        at(TEXT, "größe = 3", enc), at(TEXT, "größe = 3", enc, len("größe"))
    )

    found = await negotiated.text_document_definition_async(types.DefinitionParams(document, usage))
    assert [location.range for location in found] == [definition_range]
    references = await negotiated.text_document_references_async(
        types.ReferenceParams(
            text_document=document,
            position=usage,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted((r.range.start.line, r.range.start.character) for r in references) == sorted(
        (r.start.line, r.start.character) for r in (definition_range, usage_range)
    )
    assert usage_range in [r.range for r in references]

    prepared = await negotiated.text_document_prepare_rename_async(
        types.PrepareRenameParams(document, usage)
    )
    assert prepared == usage_range
    renamed = await negotiated.text_document_rename_async(
        types.RenameParams(document, usage, "maß")
    )
    edits = edit_list(renamed)
    expected = TEXT.replace("größe = 3", "maß = 3").replace("* größe  #", "* maß  #")
    assert apply_edits(TEXT, edits, enc) == expected

    symbols = await negotiated.text_document_document_symbol_async(
        types.DocumentSymbolParams(document)
    )
    by_name = {s.name: s for s in symbols}
    flaeche = by_name["fläche"].selection_range
    assert flaeche == types.Range(at(TEXT, "fläche(", enc), at(TEXT, "fläche(", enc, len("fläche")))
    last_line = TEXT.rstrip("\n").split("\n")[-1]
    assert by_name["umfang"].range.end == types.Position(
        TEXT.rstrip("\n").count("\n"), units(last_line, enc)
    )

    hits = await negotiated.workspace_symbol_async(types.WorkspaceSymbolParams(query="fläche"))
    assert [h.location.range for h in hits if h.name == "fläche"] == [flaeche]

    h_offset = TEXT.index("w * h * größe") + len("w * ")
    (selection,) = await negotiated.text_document_selection_range_async(
        types.SelectionRangeParams(document, [position(TEXT, h_offset, enc)])
    )
    assert selection.range == types.Range(
        position(TEXT, h_offset, enc), position(TEXT, h_offset + 1, enc)
    )
    folds = await negotiated.text_document_folding_range_async(types.FoldingRangeParams(document))
    function_line = TEXT[: TEXT.index("def fläche")].count("\n")
    assert any(f.start_line == function_line for f in folds)

    h = position(TEXT, h_offset, enc)
    context = await command(
        negotiated,
        "treellama.showContext",
        {"uri": URI, "position": {"line": h.line, "character": h.character}},
    )
    cursor = context["cursor"]
    assert cursor["lineBefore"] == '    label = "größe 😀 €"; return w * '
    assert cursor["lineAfter"] == "h * größe  # done"


async def test_incremental_edits_keep_the_servers_copy_equal_to_the_editors(
    negotiated: LanguageClient,
) -> None:
    enc = negotiated.encoding
    # Two changes in one notification, the second relative to the text the first left.
    insert_at = at(TEXT, " €", enc)
    first = types.TextDocumentContentChangePartial(
        range=types.Range(insert_at, insert_at), text=" 😀ß"
    )
    after_first = TEXT.replace("😀 €", "😀 😀ß €", 1)
    euro = at(after_first, "€", enc)
    euro_end = types.Position(euro.line, euro.character + units("€", enc))
    second = types.TextDocumentContentChangePartial(range=types.Range(euro, euro_end), text="é")
    expected = after_first.replace("😀ß €", "😀ß é", 1)
    negotiated.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=URI), [first, second]
        )
    )
    state = await command(negotiated, "treellama.documentState", {"uri": URI})
    assert state["version"] == 2 and state["positionEncoding"] == enc
    assert state["sha256"] == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert state["treeMatches"] is True
    symbols = await negotiated.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(URI))
    )
    assert {s.name for s in symbols} >= {"fläche", "umfang"}


async def test_completion_prompts_split_at_the_cursor_and_edits_land_in_place(
    negotiated: LanguageClient,
) -> None:
    enc = negotiated.encoding
    assert (await wait_for_model(negotiated))["model"]["state"] == "ready"
    document = types.TextDocumentIdentifier(URI)

    # Plain completion at the end of `größe`: the item replaces the typed word.
    word_end = TEXT.index("größe  # done") + len("größe")
    cursor = position(TEXT, word_end, enc)
    plain = await negotiated.text_document_completion_async(
        types.CompletionParams(document, cursor)
    )
    last = await command(negotiated, "treellama.showLastPrompt")
    assert "return w * h * größe<|fim_suffix|>  # done" in last["prompt"], last["prompt"]
    items = plain.items if plain is not None else []
    for item in items:
        word_start = position(TEXT, word_end - len("größe"), enc)
        assert item.text_edit.range == types.Range(word_start, cursor)
        assert item.text_edit.new_text.startswith("größe")

    # Inline completion just after `w * `, with é, ß, ö, € and 😀 earlier on the line.
    here = at(TEXT, "h * größe  # done", enc)
    inline = await negotiated.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=document,
            position=here,
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
        )
    )
    last = await command(negotiated, "treellama.showLastPrompt")
    assert '"größe 😀 €"; return w * <|fim_suffix|>h * größe  # done' in last["prompt"]
    for item in inline.items if inline is not None else []:
        assert item.range == types.Range(here, here)


async def test_a_code_actions_edit_lands_on_the_right_characters(
    negotiated: LanguageClient,
) -> None:
    enc = negotiated.encoding
    line = TEXT[: TEXT.index("def umfang")].count("\n")
    actions = await negotiated.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(URI),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    docstring = next(a for a in actions if a.title == "treellama: Add docstring to umfang")
    resolved = await negotiated.code_action_resolve_async(docstring)
    edits = edit_list(resolved.edit)
    result = apply_edits(TEXT, edits, enc)
    assert result.count('"""') == TEXT.count('"""') + 2
    assert RETURN_LINE in result and '    return f"{2 * (w + h)} 😀"' in result
    assert syntax_errors(result, "python") == []
