"""Refactoring code actions and commands.

`textDocument/codeAction` lists actions at once from the syntax tree, without the model;
`codeAction/resolve` runs the model only for the action the user picked. Edits are versioned:
if the document changed since the action was listed, it is recomputed on the current text,
never applied to text it was not made for. Commands:
- `treellama.explain {uri, range}` returns Markdown;
- `treellama.rewrite {uri, range, instruction}` computes the rewrite and sends it through
  `workspace/applyEdit` for review.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agent import refactor
from agent.edits import EditRejected
from agent.model import WorkerChatModel
from agent.refactor_actions import ActionRequest, UnknownAction, offers, run_action, verifier
from indexing.languages import language_for
from indexing.service import CodeIndex
from lsp_server.command_args import lines_of, params_of, uri_of
from lsp_server.server import RequestFailed, TreellamaServer
from lsp_server.session import DocumentSnapshot
from lsp_server.workspace_edits import workspace_edit

log = logging.getLogger(__name__)

EXPLAIN = "treellama.explain"
REWRITE = "treellama.rewrite"
CONTEXT_CHARS = 1500
SUPPORTED = {"python", "javascript", "typescript", "tsx", "rust"}


@dataclass(frozen=True)
class Where:
    document: DocumentSnapshot
    path: Path
    relative: str
    language: str


def _where(ls: TreellamaServer, uri: str) -> Where:
    document = ls.snapshot(uri)
    path = Path(to_fs_path(uri) or uri)
    language = language_for(document.language_id, str(path))
    if language is None:
        raise RequestFailed(f"treellama: no refactorings for this file type ({path.name})")
    root = ls.session.workspace_root or path.parent
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    return Where(document, path, relative, language)


def related_code(index: CodeIndex | None, where: Where, line: int) -> str:
    """Definitions of the names used around `line`, from the index, for the prompt."""
    if index is None:
        return ""
    found = index.retriever.retrieve(
        where.path, where.document.text, line, kinds=frozenset({"definition"}), limit=3
    )
    parts, size = [], 0
    for snippet in found.snippets:
        block = f"# {snippet.path}\n{snippet.text}"
        if size + len(block) > CONTEXT_CHARS:
            break
        parts.append(block)
        size += len(block)
    return "\n\n".join(parts)


def compute(ls: TreellamaServer, data: dict[str, Any], where: Where) -> refactor.Refactoring:
    """Runs one action on a document snapshot (off the event loop; the model call blocks)."""
    line = int(data.get("line", 0))
    request = ActionRequest(
        str(data.get("action")), where.relative, where.document.text, where.language, line,
        int(data.get("lastLine", line)), str(data.get("message", "")),
        str(data.get("instruction", "")),
    )  # fmt: skip
    root = ls.session.workspace_root or where.path.parent
    context = related_code(ls.code_index, where, line)
    try:
        return run_action(WorkerChatModel(ls.worker), request, root, context,
                          verifier(root, ls.session.config.agent))  # fmt: skip
    except UnknownAction as exc:
        raise RequestFailed(f"treellama: {exc}") from None


async def compute_current(
    ls: TreellamaServer, data: dict[str, Any]
) -> tuple[Where, refactor.Refactoring]:
    """Computes on the document as it is now; if it changes during the model call, the result
    is stale and is computed again (twice at most), never handed out for the wrong version."""
    uri = str(data.get("uri", ""))
    await ls.model_ready()
    for _ in range(3):
        where = _where(ls, uri)
        try:
            result = await asyncio.to_thread(compute, ls, data, where)
        except EditRejected as exc:
            ls.show_message(f"treellama: no edit: {exc}", types.MessageType.Warning)
            raise RequestFailed(f"treellama: no edit: {exc}") from None
        if _where(ls, uri).document.version == where.document.version:
            return where, result
        log.info("document %s changed during a refactoring: recomputing", uri)
    raise RequestFailed("treellama: the document keeps changing; try again when it settles")


def to_edit(ls: TreellamaServer, where: Where, result: refactor.Refactoring) -> types.WorkspaceEdit:
    root = ls.session.workspace_root or where.path.parent
    if not (root / where.relative).exists() and where.relative == where.path.name:
        root = where.path.parent
    versions = {where.relative: where.document.version}
    return workspace_edit(root, result.changes, versions, ls.session.client, result.title)


KINDS = {
    "rewrite": types.CodeActionKind.RefactorRewrite,
    "extract": types.CodeActionKind.RefactorExtract,
    "quickfix": types.CodeActionKind.QuickFix,
}


def _action(
    title: str, kind: str, data: dict[str, Any], diagnostics: list | None = None
) -> types.CodeAction:
    return types.CodeAction(
        title=f"treellama: {title}", kind=kind, data=data, diagnostics=diagnostics
    )


def list_actions(
    document: DocumentSnapshot, language: str, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """The actions for a range, from the syntax tree alone: no model, no waiting."""
    uri = document.uri
    start, end = params.range.start.line, params.range.end.line
    if params.range.end.character == 0 and end > start:
        end -= 1
    base = {"uri": uri, "version": document.version, "line": start}
    diagnostics = list(params.context.diagnostics)
    found = [(d.range.start.line, d.message) for d in diagnostics]
    actions: list[types.CodeAction] = []
    for offer in offers(document.text, language, start, found):
        data = {**base, "action": offer.action}
        if offer.action == "fix":
            data |= {"line": offer.line, "message": offer.message}
        answered = [diagnostics[offer.diagnostic]] if offer.diagnostic >= 0 else None
        actions.append(_action(offer.title, KINDS[offer.kind], data, answered))
    selection = {
        "uri": uri,
        "range": {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}},
    }
    actions.append(
        types.CodeAction(
            title="treellama: Explain this code",
            kind=types.CodeActionKind.Empty,
            command=types.Command("treellama: Explain", EXPLAIN, arguments=[selection]),
        )
    )
    if end > start or params.range.start != params.range.end:
        actions.append(
            types.CodeAction(
                title="treellama: Rewrite the selection…",
                kind=types.CodeActionKind.RefactorRewrite,
                command=types.Command("treellama: Rewrite", REWRITE, arguments=[selection]),
            )
        )
    if params.context.only:
        actions = [
            a for a in actions if any(str(a.kind or "").startswith(k) for k in params.context.only)
        ]
    return actions


def _range_arg(args: tuple[Any, ...], command: str) -> tuple[str, int, int, dict[str, Any]]:
    params, usage = params_of(args), f"{command} takes {{uri, range, ...}}"
    first, last = lines_of(params, usage)
    return uri_of(params, usage), first, last, params


def _tell_tests(ls: TreellamaServer, result: refactor.Refactoring) -> None:
    """A change the tests fail on is offered only with a warning, never as if it were fine."""
    if result.tests == "fail":
        first = result.tests_detail.split("\n", 1)[0]
        ls.show_message(f"treellama: the project's tests fail with this change: {first}",
                        types.MessageType.Warning)  # fmt: skip


def register(server: TreellamaServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.RefactorExtract,
                types.CodeActionKind.QuickFix,
            ],
            resolve_provider=True,
        ),
    )
    async def code_action(
        ls: TreellamaServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        document = ls.snapshot(params.text_document.uri)
        language = language_for(document.language_id, to_fs_path(document.uri) or document.uri)
        if language not in SUPPORTED:
            return []
        return await asyncio.to_thread(list_actions, document, language, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: TreellamaServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else None
        if data is None:
            return action
        where, result = await compute_current(ls, data)
        action.edit = to_edit(ls, where, result)
        if result.up_to_date:  # nothing to change is an answer, not an error
            ls.show_message(f"treellama: {result.up_to_date}", types.MessageType.Info)
        _tell_tests(ls, result)
        return action

    @server.command(EXPLAIN)
    async def explain(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        uri, first, last, _ = _range_arg(args, EXPLAIN)
        where = _where(ls, uri)
        await ls.model_ready()
        model = WorkerChatModel(ls.worker)
        context = await asyncio.to_thread(related_code, ls.code_index, where, first)
        markdown = await asyncio.to_thread(
            refactor.explain, model, where.document.text, where.language, first, last, context
        )
        return {"markdown": markdown}

    @server.command(REWRITE)
    async def rewrite(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        uri, first, last, params = _range_arg(args, REWRITE)
        instruction = params.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise RequestFailed(
                "treellama.rewrite needs an instruction, e.g. from the editor plugin's prompt"
            )
        data = {
            "action": "rewrite",
            "uri": uri,
            "line": first,
            "lastLine": last,
            "instruction": instruction,
        }
        where, result = await compute_current(ls, data)
        edit = to_edit(ls, where, result)
        _tell_tests(ls, result)
        tests = {"tests": result.tests, "testsDetail": result.tests_detail}
        if not params.get("apply", True) or not ls.session.client.apply_edit:
            return {
                "title": result.title,
                "applied": False,
                "edit": ls.protocol._converter.unstructure(edit),
                **tests,
            }
        response = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=result.title)
        )
        return {
            "title": result.title,
            "applied": response.applied,
            "failureReason": response.failure_reason,
            **tests,
        }
