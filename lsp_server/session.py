"""Session state that handlers read and mutate on the event loop, and the snapshots that leave it.

Requests never work on live session state: they take an immutable snapshot here, on the loop,
and hand it to a service running elsewhere, so a document edit cannot change text under a
running model call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import Workspace

from inference import paths
from lsp_server.client_features import ClientFeatures
from lsp_server.config import Config, ConfigProblem, load_config
from lsp_server.logging_setup import set_level
from lsp_server.positions import PositionEncoding, offset_at

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentSnapshot:
    uri: str
    version: int | None
    text: str
    language_id: str | None
    encoding: PositionEncoding = PositionEncoding.UTF16

    def offset(self, position: types.Position) -> int:
        """The str index of an LSP position in this snapshot's text."""
        return offset_at(self.text, position.line, position.character, self.encoding)


class UnknownDocumentError(JsonRpcInvalidParams):
    def __init__(self, uri: str) -> None:
        super().__init__(f"unknown document {uri}: it is not open; send textDocument/didOpen first")


def snapshot_document(
    workspace: Workspace, uri: str, encoding: PositionEncoding = PositionEncoding.UTF16
) -> DocumentSnapshot:
    document = workspace.text_documents.get(uri)
    if document is None:
        raise UnknownDocumentError(uri)
    return DocumentSnapshot(uri, document.version, document.source, document.language_id, encoding)


@dataclass(frozen=True)
class LiveBuffers:
    """The one read of live state that runs off the loop, by design: the code index reads an
    open buffer's text when it gets to the file (so a burst of edits is indexed once, as the
    user sees it now). It is a dict lookup and an immutable str, safe from a thread; nothing
    else of the server is reachable through it."""

    workspace: Workspace

    def text(self, uri: str) -> str | None:
        document = self.workspace.text_documents.get(uri)
        return document.source if document is not None else None

    def text_of(self, path: Path) -> str | None:
        """An open buffer's text, else the file on disk."""
        found = self.text(from_fs_path(str(path)) or "")
        return found if found is not None else disk_text(path)


def disk_text(path: Path, *, strict: bool = False) -> str | None:
    """A file's text; None when it is missing, or with `strict`, not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return data.decode("utf-8", errors="strict" if strict else "replace")
    except UnicodeDecodeError:
        return None


@dataclass
class Session:
    config: Config = field(default_factory=Config)
    client: ClientFeatures = field(default_factory=ClientFeatures)
    workspace_root: Path | None = None
    editor_settings: Any = None
    # Found while initializing, reported once the client can take messages (initialized).
    pending_problems: list[ConfigProblem] = field(default_factory=list)

    def reload_config(self) -> list[ConfigProblem]:
        self.config, problems = load_config(
            workspace_root=self.workspace_root, editor=self.editor_settings
        )
        set_level(self.config.log.level)
        paths.configure(self.config.paths)
        return problems


def workspace_root_of(params: types.InitializeParams) -> Path | None:
    if params.workspace_folders:
        return Path(to_fs_path(params.workspace_folders[0].uri) or ".")
    if params.root_uri:
        return Path(to_fs_path(params.root_uri) or ".")
    if params.root_path:
        return Path(params.root_path)
    return None
