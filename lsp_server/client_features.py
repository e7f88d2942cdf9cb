"""Client capabilities resolved once, at initialize, into the values the handlers need."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from lsp_server.positions import PositionEncoding


@dataclass(frozen=True)
class ClientFeatures:
    inline_completion: bool = False
    work_done_progress: bool = False
    configuration_pull: bool = False
    position_encoding: PositionEncoding = PositionEncoding.UTF16
    document_changes: bool = False  # versioned edits in a WorkspaceEdit
    change_annotations: bool = False  # needsConfirmation review of edits
    resolve_code_action_edit: bool = False  # codeAction/resolve may fill in `edit`
    apply_edit: bool = False  # workspace/applyEdit


def resolve_client_features(
    caps: types.ClientCapabilities, position_encoding: object
) -> ClientFeatures:
    text = caps.text_document
    window = caps.window
    workspace = caps.workspace
    edit = workspace.workspace_edit if workspace else None
    return ClientFeatures(
        inline_completion=bool(text and text.inline_completion is not None),
        work_done_progress=bool(window and window.work_done_progress),
        configuration_pull=bool(workspace and workspace.configuration),
        position_encoding=PositionEncoding.negotiated(position_encoding),
        document_changes=bool(edit and edit.document_changes),
        change_annotations=bool(edit and edit.change_annotation_support is not None),
        resolve_code_action_edit=_resolves_edit(text),
        apply_edit=bool(workspace and workspace.apply_edit),
    )


def _resolves_edit(text: types.TextDocumentClientCapabilities | None) -> bool:
    code_action = text.code_action if text else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)
