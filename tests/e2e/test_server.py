"""The real server over stdio, with the real default model."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.support.lsp_client import SAMPLE, open_document, wait_for_messages, wait_for_model

pytestmark = pytest.mark.e2e

FIB_CURSOR = types.Position(line=4, character=4)  # the empty body of fibonacci()


def inline_params(
    uri: str,
    position: types.Position,
    trigger: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Invoked,
) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri),
        position=position,
        context=types.InlineCompletionContext(trigger),
    )


def typing_params(uri: str, position: types.Position) -> types.InlineCompletionParams:
    """A request an editor sends by itself while the user types."""
    return inline_params(uri, position, types.InlineCompletionTriggerKind.Automatic)


async def test_initialize_advertises_features_and_loads_model_under_progress(
    client: LanguageClient,
):
    caps = client.init_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert "treellama.status" in caps.execute_command_provider.commands
    status = await wait_for_model(client)
    assert status["model"]["state"] == "ready", status
    assert status["model"]["name"] == "qwen2.5-coder-0.5b"
    model_progress = [
        reports for token, reports in client.progress_reports.items() if "model" in str(token)
    ]
    kinds = [type(report).__name__ for reports in model_progress for report in reports]
    assert kinds == ["WorkDoneProgressBegin", "WorkDoneProgressEnd"]


async def test_inline_completion_returns_code_from_the_model(vscode: LanguageClient):
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    result = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    # Asked for (Invoked): up to three distinct suggestions, the greedy one first.
    assert result is not None and 1 <= len(result.items) <= 3
    texts = [item.insert_text for item in result.items]
    assert len(set(texts)) == len(texts)
    text = result.items[0].insert_text
    assert isinstance(text, str) and text.strip()
    assert "n" in text  # it is about the function's argument, not a repeat of what follows
    assert "def mean" not in text
    assert result.items[0].range == types.Range(FIB_CURSOR, FIB_CURSOR)


async def test_typing_gets_one_suggestion_and_asking_gets_the_same_one_first(
    vscode: LanguageClient,
):
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    automatic = await vscode.text_document_inline_completion_async(typing_params(uri, FIB_CURSOR))
    assert automatic is not None and len(automatic.items) == 1
    last = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    # The same prompt asked for: the greedy suggestion again, first, from one batch.
    asked = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    first, alone = asked.items[0].insert_text, automatic.items[0].insert_text
    # The same greedy text, up to where the one-second generation cap cut either of them.
    assert first.startswith(alone) or alone.startswith(first), (first, alone)
    again = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    assert again["prompt"] == last["prompt"]
    assert again["evaluatedTokens"] <= 2  # one prompt, read once: the first request's cells


async def test_a_resting_cursor_has_its_prompt_read_before_the_first_keystroke(
    vscode: LanguageClient,
):
    await wait_for_model(vscode)
    text = "# a file no other test has opened\n" + (SAMPLE / "mathutils.py").read_text()
    uri = open_document(vscode, SAMPLE / "rested.py", text)
    place = types.Position(FIB_CURSOR.line + 1, FIB_CURSOR.character)
    # Malformed rests are ignored; the server keeps answering.
    vscode.protocol.notify("treellama/didRestCursor", {"uri": uri, "position": {"line": -1}})
    vscode.protocol.notify("treellama/didRestCursor", {"uri": 7})
    vscode.protocol.notify(
        "treellama/didRestCursor",
        {"uri": uri, "position": {"line": place.line, "character": place.character}},
    )
    await asyncio.sleep(3)  # the user reads the code; the prompt is read meanwhile
    result = await vscode.text_document_inline_completion_async(typing_params(uri, place))
    assert result is not None and result.items
    last = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    # Cold, this prompt is read whole (dozens of tokens); warmed, only its last token.
    assert last["promptTokens"] > 30 and last["evaluatedTokens"] <= 2, last


async def test_in_the_line_layout_a_keystroke_rereads_only_the_line(vscode: LanguageClient):
    await wait_for_model(vscode)
    line_layout = {"treellama": {"completion": {"promptLayout": "line", "cache": False}}}
    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(line_layout))
    body = "".join(f"def step_{k}(x):\n    return x * {k}\n\n" for k in range(12))
    text = body + "def total(values):\n    result = \n    return result\n"
    uri = open_document(vscode, SAMPLE / "layout.py", text)
    row = body.count("\n") + 1
    reads = []
    for column, typed in ((13, ""), (14, "s"), (15, "u"), (14, None)):  # a backspace last
        if typed is None:
            edit = types.Range(types.Position(row, 14), types.Position(row, 15))
            change = types.TextDocumentContentChangePartial(edit, "")
        else:
            here = types.Position(row, column - len(typed))
            change = types.TextDocumentContentChangePartial(types.Range(here, here), typed)
        if typed != "":
            vscode.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=column + 10, uri=uri), [change]
            ))  # fmt: skip
        await vscode.text_document_inline_completion_async(
            typing_params(uri, types.Position(row, column))
        )
        last = await vscode.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.showLastPrompt")
        )
        assert last["layout"] == "line" and last["prompt"].endswith(last["middle"])
        reads.append(last["evaluatedTokens"])
    default = {"treellama": {"completion": {"promptLayout": "auto", "cache": True}}}
    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(default))
    # The first request reads the prompt; each keystroke after it, the line's last tokens.
    assert reads[0] > 100 and all(read <= 4 for read in reads[1:]), reads


async def test_plain_completion_for_clients_without_inline_completion(client: LanguageClient):
    uri = open_document(client, SAMPLE / "mathutils.py")
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), FIB_CURSOR)
    )
    assert result.is_incomplete
    if client.editor == "visual_studio_code":
        assert len(result.items) == 0  # suggestions come as ghost text instead
        return
    (item,) = result.items
    assert item.text_edit.new_text.strip()
    assert item.text_edit.range.end == FIB_CURSOR
    assert item.detail == "treellama"


async def test_cancel_request_stops_a_long_generation(long_generation: LanguageClient):
    client = long_generation
    text = "ROWS = [\n" + "".join(f"    ({i}, {i * i}, {i * i * i}),\n" for i in range(12))
    uri = open_document(client, SAMPLE / "rows.py", text)
    await wait_for_model(client)
    at_end = types.Position(line=13, character=0)
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, at_end), msg_id="long-1"
        )
    )
    await asyncio.sleep(0.5)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="long-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    # The model is free again: a short completion elsewhere is answered.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangeWholeDocument("x = [1, 2, 3]\ny = len(")],
        )
    )
    result = await client.text_document_inline_completion_async(
        inline_params(uri, types.Position(1, 8))
    )
    assert result is not None


async def test_unknown_document_is_a_clear_error(vscode: LanguageClient):
    with pytest.raises(JsonRpcException, match=r"unknown document .*didOpen"):
        await vscode.text_document_inline_completion_async(
            inline_params("file:///never/opened.py", FIB_CURSOR)
        )


async def test_missing_model_names_the_fix_and_the_rest_keeps_working(no_model: LanguageClient):
    status = await wait_for_model(no_model)
    assert status["model"]["state"] == "unavailable"
    assert "treellama model install" in status["model"]["fix"]
    errors = await wait_for_messages(no_model, types.MessageType.Error)
    assert errors and "treellama model install" in errors[0]
    uri = open_document(no_model, SAMPLE / "mathutils.py")
    with pytest.raises(JsonRpcException, match="treellama model install") as failure:
        await no_model.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    assert failure.value.code == -32803
    assert (await wait_for_model(no_model))["openDocuments"] == 1


async def test_every_request_that_needs_the_model_names_the_problem_and_the_fix(
    no_model: LanguageClient,
):
    uri = open_document(no_model, SAMPLE / "mathutils.py")
    actions = await no_model.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(7, 0), types.Position(7, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    docstring = next(a for a in actions if "docstring" in a.title)
    selection = {"start": {"line": 6, "character": 0}, "end": {"line": 7, "character": 0}}

    def run(command: str, arguments: dict):
        return no_model.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=[arguments])
        )

    requests = {
        "inline completion": no_model.text_document_inline_completion_async(
            inline_params(uri, FIB_CURSOR)
        ),
        "code action": no_model.code_action_resolve_async(docstring),
        "explain": run("treellama.explain", {"uri": uri, "range": selection}),
        "rewrite": run(
            "treellama.rewrite", {"uri": uri, "range": selection, "instruction": "simplify"}
        ),
        "agent task": run("treellama.agent.start", {"instruction": "add a test for mean"}),
    }
    for name, request in requests.items():
        with pytest.raises(JsonRpcException) as failure:
            await request
        message = str(failure.value)
        assert "is not installed. Fix: run `treellama model install" in message, (name, message)


async def test_bad_configuration_is_reported_and_defaults_apply(bad_config: LanguageClient):
    uri = open_document(bad_config, SAMPLE / "mathutils.py")
    result = await bad_config.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    assert result is not None and result.items  # the default max_lines was used
    warnings = await wait_for_messages(bad_config, types.MessageType.Warning)
    assert warnings
    for key in ("completion.maxLines", "completion.colour", "nonsense"):
        assert key in warnings[0]


async def test_did_change_configuration_applies_new_settings(vscode: LanguageClient):
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    vscode.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"treellama": {"completion": {"enabled": False}}}
        )
    )
    disabled = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    assert disabled is not None and len(disabled.items) == 0
    vscode.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"treellama": {"completion": {"enabled": True}}}
        )
    )
    enabled = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    assert enabled is not None and len(enabled.items) >= 1


async def test_show_last_prompt_feedback_and_typed_ahead(vscode: LanguageClient, tmp_path):
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    first = await vscode.text_document_inline_completion_async(typing_params(uri, FIB_CURSOR))
    item = first.items[0]
    completion_id = item.command.arguments[0]
    assert item.command.command == "treellama.acceptedCompletion"

    last = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    assert last["id"] == completion_id and last["family"] == "qwen"
    text = (SAMPLE / "mathutils.py").read_text()
    after = text.split("def fibonacci(n):\n    ", 1)[1]
    # The default layout splits the prompt at the cursor (inference.fim).
    assert last["prompt"].endswith(f"def fibonacci(n):\n    <|fim_suffix|>{after}<|fim_middle|>")
    assert last["layout"] == "cursor" and last["middle"] == ""
    assert last["completion"] == item.insert_text
    # Where the milliseconds went: every part, and what no part accounts for.
    timing = last["timing"]
    assert {"waited_ms", "fit_ms", "tokenize_ms", "read_ms", "decode_ms", "rest_ms"} <= set(timing)
    assert timing["read_tokens"] == last["evaluatedTokens"]
    assert timing["decoded_tokens"] == last["generatedTokens"]
    assert abs(timing["total_ms"] - sum(v for k, v in timing.items() if k.endswith("_ms")
                                        and k != "total_ms")) < 1  # fmt: skip
    assert "rest" in last["timingSummary"]

    # The user types the first two characters of the suggestion: answered without the model.
    typed = item.insert_text[:2]
    vscode.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangePartial(types.Range(FIB_CURSOR, FIB_CURSOR), typed)],
        )
    )
    moved = types.Position(FIB_CURSOR.line, FIB_CURSOR.character + 2)
    ahead = await vscode.text_document_inline_completion_async(typing_params(uri, moved))
    assert ahead.items[0].insert_text == item.insert_text[2:]

    vscode.protocol.notify("treellama/didShowCompletion", {"id": completion_id})
    vscode.protocol.notify(
        "treellama/didAcceptCompletion", {"id": completion_id, "acceptedLength": 2}
    )
    await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.acceptedCompletion", arguments=["nope"])
    )
    stats = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.stats")
    )
    assert stats["shown"] >= 1 and stats["accepted"] >= 1 and stats["partialAccepts"] >= 1
    assert stats["acceptanceRate"] <= 1
    assert stats["latencyMs"]["cache"]["n"] >= 1 and stats["latencyMs"]["model"]["n"] >= 1


async def test_yanked_text_and_other_files_become_context_chunks(vscode: LanguageClient):
    helper = "def triple_it(value):\n    return value * 3\n"
    vscode.protocol.notify(
        "treellama/didYank", {"uri": (SAMPLE / "helpers.py").as_uri(), "text": helper}
    )
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    result = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
    assert result is not None and result.items
    last = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    assert last is not None
    assert {"path": "helpers.py", "source": "yank"} in last["chunks"]
    assert last["prompt"].startswith("<|repo_name|>sample_project\n")
    assert f"<|file_sep|>helpers.py\n{helper}" in last["prompt"]
    # The current file comes last, as its own section, just before the FIM core.
    assert "<|file_sep|>mathutils.py\n<|fim_prefix|>" in last["prompt"]


async def test_symbols_folds_and_selections_work_without_a_model(no_model: LanguageClient):
    path = SAMPLE.parent / "languages" / "shapes.ts"
    uri = path.as_uri()
    no_model.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "typescript", 1, path.read_text())
        )
    )
    document = types.TextDocumentIdentifier(uri)
    symbols = await no_model.text_document_document_symbol_async(
        types.DocumentSymbolParams(document)
    )
    outline = {(s.name, s.kind) for s in symbols}
    assert ("Circle", types.SymbolKind.Class) in outline
    assert ("Shape", types.SymbolKind.Interface) in outline
    circle = next(s for s in symbols if s.name == "Circle")
    assert {c.name for c in circle.children} == {"constructor", "area"}
    assert circle.selection_range.start == types.Position(6, 13)  # the name, in UTF-16 units

    # An edit goes into the kept tree incrementally; the outline follows it.
    rename = types.Range(types.Position(14, 16), types.Position(14, 25))  # `totalArea`
    no_model.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangePartial(rename, "sumOfAreas")],
        )
    )
    renamed = await no_model.text_document_document_symbol_async(
        types.DocumentSymbolParams(document)
    )
    assert {"sumOfAreas", "Circle"} <= {s.name for s in renamed}
    assert "totalArea" not in {s.name for s in renamed}

    folds = await no_model.text_document_folding_range_async(types.FoldingRangeParams(document))
    assert any(f.start_line == 6 and f.end_line == 12 for f in folds)

    inside = types.Position(10, 20)
    (selection,) = await no_model.text_document_selection_range_async(
        types.SelectionRangeParams(document, [inside])
    )
    ranges = []
    while selection is not None:
        ranges.append(selection.range)
        selection = selection.parent
    assert len(ranges) > 3 and ranges[-1].start == types.Position(0, 0)
    assert all(
        (outer.start.line, outer.start.character) <= (inner.start.line, inner.start.character)
        for inner, outer in itertools.pairwise(ranges)
    )


async def test_instruction_prompt_fallback_through_the_server(vscode: LanguageClient):
    vscode.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            # The cap on prediction time is lifted: this test is about the prompt, and on a
            # busy machine a one-second cap can cut `len(values)` short.
            settings={
                "treellama": {"completion": {"promptFormat": "instruct", "maxPredictMs": 20000}}
            }
        )
    )
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    mean_body = types.Position(7, 4)  # `return sum(values) / len(values)`, cut short below
    vscode.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangePartial(
                types.Range(mean_body, types.Position(7, 36)), "return sum(values) /"
            )],
        )
    )  # fmt: skip
    result = await vscode.text_document_inline_completion_async(
        inline_params(uri, types.Position(7, 24))
    )
    last = await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.showLastPrompt")
    )
    assert last["family"] == "instruct"
    assert last["prompt"].startswith("<|im_start|>system\n")
    # The reply is pre-filled with the code before the cursor, which the model continues.
    assert last["prompt"].endswith("def mean(values):\n    return sum(values) /")
    assert "<|fim_prefix|>" not in last["prompt"]
    assert result.items and "len(values)" in result.items[0].insert_text


async def test_configuration_is_pulled_when_the_client_sends_none(vscode: LanguageClient):
    vscode.set_configuration({"completion": {"enabled": False}}, section="treellama")
    vscode.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    uri = open_document(vscode, SAMPLE / "mathutils.py")
    for _ in range(50):  # the pull is a round trip: wait until it has been applied
        result = await vscode.text_document_inline_completion_async(inline_params(uri, FIB_CURSOR))
        if not result.items:
            break
        await asyncio.sleep(0.1)
    assert not result.items
