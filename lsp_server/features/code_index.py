"""The workspace code index over LSP: the background scan with progress, workspace/symbol,
definition, references, and `treellama.showContext`. None of them needs a model.

Until the first scan finishes, navigation answers from what is indexed so far (possibly
nothing); it never waits for the scan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from indexing import rename as rename_module
from indexing.languages import language_for
from indexing.navigation import Place
from indexing.service import CodeIndex
from inference.context import retrieval_helps
from inference.paths import index_dir
from lsp_server.command_args import params_of, position_of, uri_of
from lsp_server.features.inline_completion import request_at
from lsp_server.features.symbols import SYMBOL_KINDS
from lsp_server.index_context import IndexContextSource
from lsp_server.positions import LineIndex
from lsp_server.progress import WorkDone
from lsp_server.server import RequestFailed, TreellamaServer
from lsp_server.session import buffer_or_disk

log = logging.getLogger(__name__)

SHOW_CONTEXT = "treellama.showContext"
PROGRESS_EVERY_S = 0.25


def open_text(ls: TreellamaServer, path: Path) -> str | None:
    """An open document's current text, else the file on disk."""
    return buffer_or_disk(ls.workspace, path)[0]


def retrieval_enabled(ls: TreellamaServer) -> bool:
    info = ls.models.status.info
    n_params = None if info is None else int(getattr(info, "n_params", 0) or 0)
    return retrieval_helps(ls.session.config.index.retrieval, n_params)


def recent_paths(ls: TreellamaServer) -> Any:
    def paths(uri: str, line: int) -> list[str]:
        return [chunk.path for chunk in ls.completions.ring.chunks_for(uri, line)]

    return paths


async def start_index(ls: TreellamaServer) -> None:
    """Opens the workspace's index and scans it under work-done progress, off the loop."""
    settings = ls.session.config.index
    root = ls.session.workspace_root
    if not settings.enabled or root is None or not root.is_dir():
        return
    try:
        index = await asyncio.to_thread(
            CodeIndex, root, settings, index_dir(), lambda p: open_text(ls, p)
        )
    except Exception as exc:  # a read-only cache dir, say: navigation stays empty, no crash
        log.exception("cannot open the code index")
        ls.show_message(f"treellama: the code index is off ({exc})", types.MessageType.Warning)
        return
    ls.code_index = index
    ls.completions.sources.append(
        IndexContextSource(index, lambda: retrieval_enabled(ls), recent_paths(ls))
    )
    progress = await WorkDone.begin(
        ls, "treellama", "indexing the workspace", kind="index", percentage=0
    )
    loop = asyncio.get_running_loop()
    last = [0.0]

    def report(done: int, total: int) -> None:  # on the indexer thread
        now = time.monotonic()
        if progress.token is None or (now - last[0] < PROGRESS_EVERY_S and done != total):
            return
        last[0] = now
        percentage = int(100 * done / total) if total else 100
        message = f"indexing {done}/{total} files"
        loop.call_soon_threadsafe(progress.report, message, percentage)

    try:
        result: Any = await asyncio.wrap_future(index.start(report))
        message = f"indexed {result.files} files ({result.indexed} read) in {result.seconds:.1f} s"
    except Exception as exc:
        log.exception("the workspace scan failed")
        message = f"indexing failed: {exc}"
    progress.end(message)
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))


def _locations(ls: TreellamaServer, places: list[Place]) -> list[types.Location]:
    encoding = ls.session.client.position_encoding
    indexes: dict[Path, LineIndex] = {}
    found = []
    for place in places:
        if place.path not in indexes:
            text = open_text(ls, place.path) or ""
            indexes[place.path] = LineIndex(text.encode("utf-8"), encoding)
        found.append(
            types.Location(
                uri=from_fs_path(str(place.path)) or str(place.path),
                range=indexes[place.path].range((place.row, place.col), (place.row, place.end_col)),
            )
        )
    return found


def _rename_edit(
    ls: TreellamaServer, renaming: rename_module.Renaming, new_name: str
) -> types.WorkspaceEdit:
    """Versioned edits for open documents (the editor refuses them if they moved on)."""
    per_file: list[tuple[str, list[types.TextEdit]]] = []
    for path, places in renaming.places.items():
        locations = _locations(ls, places)
        edits = [types.TextEdit(range=loc.range, new_text=new_name) for loc in locations]
        per_file.append((from_fs_path(str(path)) or str(path), edits))
    if not ls.session.client.document_changes:
        return types.WorkspaceEdit(changes=dict(per_file))
    changes: list = []
    for uri, edits in per_file:
        document = ls.workspace.text_documents.get(uri)
        version = document.version if document is not None else None
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        changes.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
    return types.WorkspaceEdit(document_changes=changes)


def _cursor(
    ls: TreellamaServer, uri: str, position: types.Position
) -> tuple[Path, str, str, int] | None:
    document = ls.snapshot(uri)
    path = Path(to_fs_path(uri) or uri)
    language = language_for(document.language_id, str(path))
    if language is None:
        return None
    offset = document.offset(position)
    return path, document.text, language, len(document.text[:offset].encode("utf-8"))


def register(server: TreellamaServer) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: TreellamaServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        index = ls.code_index
        if index is None:
            return []
        hits = await asyncio.to_thread(index.navigator.workspace_symbols, params.query)
        places = [
            Place(h.path, h.name_row, h.name_col, h.name_col + len(h.name.encode())) for h in hits
        ]
        locations = await asyncio.to_thread(_locations, ls, places)
        return [
            types.WorkspaceSymbol(
                name=hit.name,
                kind=SYMBOL_KINDS.get(hit.kind, types.SymbolKind.Variable),
                location=location,
                container_name=hit.container or None,
            )
            for hit, location in zip(hits, locations, strict=False)
        ]

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: TreellamaServer, params: types.DefinitionParams
    ) -> list[types.Location]:
        index = ls.code_index
        cursor = _cursor(ls, params.text_document.uri, params.position)
        if index is None or cursor is None:
            return []
        places = await asyncio.to_thread(index.navigator.definition, *cursor)
        return await asyncio.to_thread(_locations, ls, places)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: TreellamaServer, params: types.ReferenceParams
    ) -> list[types.Location]:
        index = ls.code_index
        cursor = _cursor(ls, params.text_document.uri, params.position)
        if index is None or cursor is None:
            return []
        places = await asyncio.to_thread(
            index.navigator.references, *cursor, params.context.include_declaration
        )
        return await asyncio.to_thread(_locations, ls, places)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls: TreellamaServer, params: types.PrepareRenameParams) -> types.Range:
        index = ls.code_index
        cursor = _cursor(ls, params.text_document.uri, params.position)
        if index is None or cursor is None:
            raise RequestFailed("treellama: rename needs the workspace index and a known language")
        try:
            place = await asyncio.to_thread(rename_module.prepare, index.navigator, *cursor)
        except rename_module.RenameRefused as exc:
            raise RequestFailed(f"treellama: cannot rename: {exc}") from None
        (location,) = _locations(ls, [place])
        return location.range

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    async def rename(ls: TreellamaServer, params: types.RenameParams) -> types.WorkspaceEdit:
        index = ls.code_index
        cursor = _cursor(ls, params.text_document.uri, params.position)
        if index is None or cursor is None:
            raise RequestFailed("treellama: rename needs the workspace index and a known language")
        try:
            renaming = await asyncio.to_thread(
                rename_module.rename, index.navigator, *cursor, params.new_name
            )
        except rename_module.RenameRefused as exc:
            raise RequestFailed(f"treellama: cannot rename: {exc}") from None
        return await asyncio.to_thread(_rename_edit, ls, renaming, params.new_name)

    @server.command(SHOW_CONTEXT)
    async def show_context(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        """{uri, position}: the snippets retrieval ranks for that cursor, and why."""
        params = params_of(args)
        usage = "treellama.showContext takes {uri, position: {line, character}}"
        uri = uri_of(params, usage)
        line, character = position_of(params, usage)
        document = ls.snapshot(uri)
        request = await request_at(ls, uri, types.Position(line, character))
        settings = ls.session.config.completion
        prompt = await asyncio.to_thread(ls.completions.prompt_context, request, settings)
        cursor = {"line": line, "column": request.column, "lineBefore": prompt.line_before,
                  "lineAfter": prompt.line_after}  # fmt: skip
        recent = recent_paths(ls)(uri, line)
        index = ls.code_index
        found = (
            await asyncio.to_thread(
                index.retrieve, uri, document.text, line, prompt.window_start, recent
            )
            if index is not None
            else None
        )
        return {
            "indexReady": bool(index and index.workspace.ready.is_set()),
            "cursor": cursor,
            "retrievalInPrompt": retrieval_enabled(ls),
            "elapsedMs": round(found.elapsed_ms, 1) if found else 0,
            "timedOut": found.timed_out if found else False,
            "snippets": [
                {
                    "path": s.path, "startLine": s.start_row, "endLine": s.end_row,
                    "kind": s.kind, "reason": s.reason, "score": s.score, "text": s.text,
                }
                for s in (found.snippets if found else [])
            ],
            "recent": [
                {"path": c.path, "source": c.source, "text": c.text}
                for c in ls.completions.ring.chunks_for(uri, line)
            ],
            "inPrompt": [{"path": c.path, "source": c.source} for c in prompt.chunks],
        }  # fmt: skip
