"""Client capabilities resolved once, at initialize, into the booleans the handlers need."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types


@dataclass(frozen=True)
class ClientFeatures:
    inline_completion: bool = False
    work_done_progress: bool = False
    configuration_pull: bool = False
    utf16_positions: bool = True


def resolve_client_features(
    caps: types.ClientCapabilities, position_encoding: object
) -> ClientFeatures:
    text = caps.text_document
    window = caps.window
    workspace = caps.workspace
    return ClientFeatures(
        inline_completion=bool(text and text.inline_completion is not None),
        work_done_progress=bool(window and window.work_done_progress),
        configuration_pull=bool(workspace and workspace.configuration),
        utf16_positions=str(position_encoding) in ("utf-16", "PositionEncodingKind.Utf16"),
    )
