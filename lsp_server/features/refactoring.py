"""Refactoring code actions and commands.

`textDocument/codeAction` lists actions at once from the syntax tree, without the model;
`codeAction/resolve` runs the model only for the action the user picked. Edits are versioned:
if the document changed since the action was listed, it is recomputed on the current text,
never applied to text it was not made for. Commands:
- `treellama.explain {uri, range, images?}` returns Markdown;
- `treellama.rewrite {uri, range, instruction, images?}` computes the rewrite and sends it through
  `workspace/applyEdit` for review.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agent import refactor
from agent.images import prompt_text
from agent.model import WorkerChatModel
from indexing.languages import language_for
from lsp_server.code_actions import (
    EXPLAIN,
    REWRITE,
    SUPPORTED,
    compute_current,
    list_actions,
    range_arg,
    related_code,
    tell_tests,
    to_edit,
    where_of,
)
from lsp_server.request_images import read_images
from lsp_server.server import RequestFailed, TreellamaServer

CODE_ACTION_OPTIONS = types.CodeActionOptions(
    code_action_kinds=[
        types.CodeActionKind.RefactorRewrite,
        types.CodeActionKind.RefactorExtract,
        types.CodeActionKind.QuickFix,
    ],
    resolve_provider=True,
)


async def code_action(
    ls: TreellamaServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    document = ls.snapshot(params.text_document.uri)
    language = language_for(document.language_id, to_fs_path(document.uri) or document.uri)
    if language not in SUPPORTED:
        return []
    return await asyncio.to_thread(list_actions, document, language, params)


async def resolve(ls: TreellamaServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data if isinstance(action.data, dict) else None
    if data is None:
        return action
    where, result = await compute_current(ls, data)
    action.edit = to_edit(where, result)
    if result.up_to_date:  # nothing to change is an answer, not an error
        ls.show_message(f"treellama: {result.up_to_date}", types.MessageType.Info)
    tell_tests(ls, result)
    return action


async def explain(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
    uri, first, last, params = range_arg(args, EXPLAIN)
    where = where_of(ls, uri)
    readings = await read_images(ls, params, EXPLAIN, "explain this code")
    await ls.model_ready()
    model = WorkerChatModel(where.snapshot.worker)
    context = await asyncio.to_thread(related_code, where.snapshot.code_index, where, first)
    context = "\n\n".join(part for part in (context, prompt_text(readings)) if part)
    markdown = await asyncio.to_thread(
        refactor.explain, model, where.document.text, where.language, first, last, context
    )
    return {"markdown": markdown, "images": [r.public() for r in readings]}


async def rewrite(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
    uri, first, last, params = range_arg(args, REWRITE)
    instruction = params.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise RequestFailed(
            "treellama.rewrite needs an instruction, e.g. from the editor plugin's prompt"
        )
    readings = await read_images(ls, params, REWRITE, instruction)
    seen = prompt_text(readings)
    data = {"action": "rewrite", "uri": uri, "line": first, "lastLine": last,
            "instruction": f"{instruction}\n\n{seen}" if seen else instruction}  # fmt: skip
    where, result = await compute_current(ls, data)
    edit = to_edit(where, result)
    tell_tests(ls, result)
    answer = {"title": result.title, "tests": result.tests, "testsDetail": result.tests_detail,
              "images": [r.public() for r in readings]}  # fmt: skip
    if not params.get("apply", True) or not ls.session.client.apply_edit:
        return {**answer, "applied": False, "edit": ls.protocol._converter.unstructure(edit)}
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=result.title)
    )
    return {**answer, "applied": response.applied, "failureReason": response.failure_reason}


def register(server: TreellamaServer) -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, CODE_ACTION_OPTIONS)(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(resolve)
    server.command(EXPLAIN)(explain)
    server.command(REWRITE)(rewrite)
