"""Code navigation on a request snapshot: workspace symbols, definition, references, rename,
and what `treellama.showContext` reports, as LSP types. None of them needs a model; each
runs off the event loop on what the snapshot holds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from indexing import rename as rename_module
from indexing.languages import language_for
from indexing.navigation import Place
from inference.completion import CompletionRequest
from inference.context import retrieval_helps
from lsp_server.document_structure import SYMBOL_KINDS
from lsp_server.positions import LineIndex
from lsp_server.server import RequestFailed
from lsp_server.snapshot import RequestSnapshot

log = logging.getLogger(__name__)

SHOW_CONTEXT = "treellama.showContext"


def locations(snapshot: RequestSnapshot, places: list[Place]) -> list[types.Location]:
    """Index places (byte columns) as LSP locations in the client's position encoding, read
    against the text each file had when the request was made."""
    indexes: dict[Path, LineIndex] = {}
    found = []
    for place in places:
        if place.path not in indexes:
            text = snapshot.text_of(place.path) or ""
            indexes[place.path] = LineIndex(text.encode("utf-8"), snapshot.encoding)
        found.append(
            types.Location(
                uri=from_fs_path(str(place.path)) or str(place.path),
                range=indexes[place.path].range((place.row, place.col), (place.row, place.end_col)),
            )
        )
    return found


def _rename_edit(
    snapshot: RequestSnapshot, renaming: rename_module.Renaming, new_name: str
) -> types.WorkspaceEdit:
    """Versioned edits for open documents (the editor refuses them if they moved on)."""
    per_file: list[tuple[str, list[types.TextEdit]]] = []
    for path, places in renaming.places.items():
        edits = [types.TextEdit(range=loc.range, new_text=new_name)
                 for loc in locations(snapshot, places)]  # fmt: skip
        per_file.append((from_fs_path(str(path)) or str(path), edits))
    if not snapshot.client.document_changes:
        return types.WorkspaceEdit(changes=dict(per_file))
    changes: list = []
    for uri, edits in per_file:
        version = snapshot.documents.version_of(uri)
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        changes.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
    return types.WorkspaceEdit(document_changes=changes)


def _cursor(snapshot: RequestSnapshot, position: types.Position) -> tuple[Path, str, str, int]:
    """(path, text, language, byte offset) of the request's cursor; RequestFailed when the
    index has nothing to say about it."""
    document, path = snapshot.document, snapshot.path
    assert document is not None and path is not None  # a document request's snapshot
    language = language_for(document.language_id, str(path))
    if language is None or snapshot.code_index is None:
        raise _NoAnswer
    offset = document.offset(position)
    return path, document.text, language, len(document.text[:offset].encode("utf-8"))


class _NoAnswer(Exception):
    """No index yet, or a file type it does not know: navigation answers nothing."""


def _navigator(snapshot: RequestSnapshot) -> Any:
    assert snapshot.code_index is not None
    return snapshot.code_index.navigator


def _renamable(
    snapshot: RequestSnapshot, position: types.Position
) -> tuple[Any, tuple[Path, str, str, int]]:
    try:
        cursor = _cursor(snapshot, position)
    except _NoAnswer:
        raise RequestFailed(
            "treellama: rename needs the workspace index and a known language"
        ) from None
    return _navigator(snapshot), cursor


def workspace_symbols(snapshot: RequestSnapshot, query: str) -> list[types.WorkspaceSymbol]:
    if snapshot.code_index is None:
        return []
    hits = snapshot.code_index.navigator.workspace_symbols(query)
    places = [
        Place(h.path, h.name_row, h.name_col, h.name_col + len(h.name.encode())) for h in hits
    ]
    return [
        types.WorkspaceSymbol(
            name=hit.name, kind=SYMBOL_KINDS.get(hit.kind, types.SymbolKind.Variable),
            location=location, container_name=hit.container or None,
        )
        for hit, location in zip(hits, locations(snapshot, places), strict=False)
    ]  # fmt: skip


def definition(snapshot: RequestSnapshot, position: types.Position) -> list[types.Location]:
    try:
        cursor = _cursor(snapshot, position)
    except _NoAnswer:
        return []
    return locations(snapshot, _navigator(snapshot).definition(*cursor))


def references(
    snapshot: RequestSnapshot, position: types.Position, declaration: bool
) -> list[types.Location]:
    try:
        cursor = _cursor(snapshot, position)
    except _NoAnswer:
        return []
    return locations(snapshot, _navigator(snapshot).references(*cursor, declaration))


def prepare_rename(snapshot: RequestSnapshot, position: types.Position) -> types.Range:
    navigator, cursor = _renamable(snapshot, position)
    try:
        place = rename_module.prepare(navigator, *cursor)
    except rename_module.RenameRefused as exc:
        raise RequestFailed(f"treellama: cannot rename: {exc}") from None
    (location,) = locations(snapshot, [place])
    return location.range


def rename(
    snapshot: RequestSnapshot, position: types.Position, new_name: str
) -> types.WorkspaceEdit:
    navigator, cursor = _renamable(snapshot, position)
    try:
        renaming = rename_module.rename(navigator, *cursor, new_name)
    except rename_module.RenameRefused as exc:
        raise RequestFailed(f"treellama: cannot rename: {exc}") from None
    return _rename_edit(snapshot, renaming, new_name)


def context_report(
    snapshot: RequestSnapshot, request: CompletionRequest, line: int, recent: list[str]
) -> dict[str, Any]:
    """What treellama.showContext answers: the prompt's own context (the very function that
    builds the prompt) and what retrieval ranks for the cursor, and why."""
    assert snapshot.document is not None
    prompt = snapshot.completions.prompt_context(request, snapshot.config.completion)
    index = snapshot.code_index
    found = (
        index.retrieve(snapshot.document.uri, snapshot.document.text, line, prompt.window_start,
                       recent)
        if index is not None else None
    )  # fmt: skip
    return {
        "indexReady": bool(index and index.workspace.ready.is_set()),
        "cursor": {"line": line, "column": request.column, "lineBefore": prompt.line_before,
                   "lineAfter": prompt.line_after},
        "retrievalInPrompt": retrieval_helps(
            snapshot.config.index.retrieval, snapshot.model_parameters
        ),
        "elapsedMs": round(found.elapsed_ms, 1) if found else 0,
        "timedOut": found.timed_out if found else False,
        "snippets": [
            {"path": s.path, "startLine": s.start_row, "endLine": s.end_row, "kind": s.kind,
             "reason": s.reason, "score": s.score, "text": s.text}
            for s in (found.snippets if found else [])
        ],
        "recent": [{"path": c.path, "source": c.source, "text": c.text}
                   for c in snapshot.completions.ring.chunks_for(snapshot.document.uri, line)],
        "inPrompt": [{"path": c.path, "source": c.source} for c in prompt.chunks],
    }  # fmt: skip
