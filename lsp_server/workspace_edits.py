"""Turns validated file changes into an LSP WorkspaceEdit the editor can review.

Existing documents get versioned edits (the editor refuses them if the document has moved on),
new files a CreateFile first. Where the client supports change annotations, every edit carries
one with `needsConfirmation`, so the user reviews the change before it lands.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from agent.editing.edits import FileChange, LineEdit
from lsp_server.client_features import ClientFeatures
from lsp_server.positions import PositionEncoding, position_at

ANNOTATION = "treellama"


def text_edits(
    original: str, edits: list[LineEdit], encoding: PositionEncoding
) -> list[types.TextEdit]:
    lines = original.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    result = []
    for edit in edits:
        start = starts[edit.start_line] if edit.start_line < len(lines) else len(original)
        if edit.end_line < len(lines):
            end = starts[edit.end_line]
            new_text = "".join(line + "\n" for line in edit.new_lines)
        else:
            end = len(original)
            new_text = "\n".join(edit.new_lines)
            if not edit.new_lines and edit.start_line > 0:
                start -= 1  # deleting the last lines takes the newline before them too
            elif edit.start_line >= len(lines):
                new_text = "\n" + new_text
        result.append(
            types.TextEdit(
                range=types.Range(
                    position_at(original, start, encoding), position_at(original, end, encoding)
                ),
                new_text=new_text,
            )
        )
    return result


def workspace_edit(
    root: Path,
    changes: list[FileChange],
    versions: dict[str, int | None],
    client: ClientFeatures,
    label: str,
) -> types.WorkspaceEdit:
    """`versions` maps a change's path to the version of the open document it was made from."""
    annotation_id = ANNOTATION if client.change_annotations else None
    if not client.document_changes:
        return types.WorkspaceEdit(
            changes={
                (root / c.path).as_uri(): text_edits(
                    c.original or "", c.edits, client.position_encoding
                )
                for c in changes
            }
        )
    document_changes: list = []
    for change in changes:
        uri = (root / change.path).as_uri()
        if change.original is None:
            document_changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(ignore_if_exists=True),
                    annotation_id=annotation_id,
                )
            )
        edits: list = text_edits(change.original or "", change.edits, client.position_encoding)
        if annotation_id:
            edits = [
                types.AnnotatedTextEdit(
                    range=e.range, new_text=e.new_text, annotation_id=annotation_id
                )
                for e in edits
            ]
        document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=versions.get(change.path)
                ),
                edits=edits,
            )
        )
    annotations = (
        {
            ANNOTATION: types.ChangeAnnotation(
                label=label,
                needs_confirmation=True,
                description="suggested by treellama; review it",
            )
        }
        if annotation_id
        else None
    )
    return types.WorkspaceEdit(document_changes=document_changes, change_annotations=annotations)
