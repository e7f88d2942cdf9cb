"""Refactoring code actions on a request snapshot: which actions a range offers (from the
syntax tree, no model), and computing one on the current text of its document.

Edits are versioned: if the document changed while an action was computed, it is computed
again on the current text, never handed out for text it was not made for.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from agent import refactor
from agent.editing.edits import EditRejected
from agent.model import WorkerChatModel
from agent.refactor_actions import ActionRequest, UnknownAction, offers, run_action, verifier
from indexing.languages import language_for
from indexing.service import CodeIndex
from lsp_server.command_args import lines_of, params_of, uri_of
from lsp_server.server import RequestFailed, TreellamaServer
from lsp_server.session import DocumentSnapshot
from lsp_server.snapshot import RequestSnapshot, take_snapshot
from lsp_server.workspace_edits import workspace_edit

log = logging.getLogger(__name__)

EXPLAIN = "treellama.explain"
REWRITE = "treellama.rewrite"
CONTEXT_CHARS = 1500
SUPPORTED = {"python", "javascript", "typescript", "tsx", "rust"}


@dataclass(frozen=True)
class Where:
    snapshot: RequestSnapshot
    path: Path
    relative: str
    language: str

    @property
    def document(self) -> DocumentSnapshot:
        assert self.snapshot.document is not None
        return self.snapshot.document

    @property
    def root(self) -> Path:
        return self.snapshot.root_for(self.path)

    @property
    def edit_root(self) -> Path:
        """What the edit's paths are relative to: the file's folder for a file outside the
        workspace."""
        root = self.root
        if not (root / self.relative).exists() and self.relative == self.path.name:
            return self.path.parent
        return root


def where_of(ls: TreellamaServer, uri: str) -> Where:
    """On the loop: the snapshot a refactoring works on, and where its document is."""
    snapshot = take_snapshot(ls, uri)
    path = snapshot.path or Path(uri)
    language = language_for(snapshot.document.language_id if snapshot.document else None,
                            str(path))  # fmt: skip
    if language is None:
        raise RequestFailed(f"treellama: no refactorings for this file type ({path.name})")
    try:
        relative = path.relative_to(snapshot.root_for(path)).as_posix()
    except ValueError:
        relative = path.name
    return Where(snapshot, path, relative, language)


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


def compute(data: dict[str, Any], where: Where) -> refactor.Refactoring:
    """Runs one action on a snapshot (off the event loop; the model call blocks)."""
    line = int(data.get("line", 0))
    request = ActionRequest(
        str(data.get("action")), where.relative, where.document.text, where.language, line,
        int(data.get("lastLine", line)), str(data.get("message", "")),
        str(data.get("instruction", "")),
    )  # fmt: skip
    snapshot = where.snapshot
    context = related_code(snapshot.code_index, where, line)
    try:
        return run_action(WorkerChatModel(snapshot.worker), request, where.root, context,
                          verifier(where.root, snapshot.config.agent))  # fmt: skip
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
        where = where_of(ls, uri)
        try:
            result = await asyncio.to_thread(compute, data, where)
        except EditRejected as exc:
            ls.show_message(f"treellama: no edit: {exc}", types.MessageType.Warning)
            raise RequestFailed(f"treellama: no edit: {exc}") from None
        if ls.snapshot(uri).version == where.document.version:
            return where, result
        log.info("document %s changed during a refactoring: recomputing", uri)
    raise RequestFailed("treellama: the document keeps changing; try again when it settles")


def to_edit(where: Where, result: refactor.Refactoring) -> types.WorkspaceEdit:
    versions = {where.relative: where.document.version}
    client = where.snapshot.client
    return workspace_edit(where.edit_root, result.changes, versions, client, result.title)


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


def range_arg(args: tuple[Any, ...], command: str) -> tuple[str, int, int, dict[str, Any]]:
    params, usage = params_of(args), f"{command} takes {{uri, range, ...}}"
    first, last = lines_of(params, usage)
    return uri_of(params, usage), first, last, params


def tell_tests(ls: TreellamaServer, result: refactor.Refactoring) -> None:
    """A change the tests fail on is offered only with a warning, never as if it were fine."""
    if result.tests == "fail":
        first = result.tests_detail.split("\n", 1)[0]
        ls.show_message(f"treellama: the project's tests fail with this change: {first}",
                        types.MessageType.Warning)  # fmt: skip
