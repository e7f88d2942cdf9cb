"""What a request may read off the event loop: one snapshot, taken on the loop.

In the manner of ruff_server's `BackgroundDocumentRequestHandler`: a request declares that it
runs in the background, the snapshot is taken before it leaves the loop (the document, the
negotiated encoding, the client's features, the configuration, the workspace root, the open
documents' texts, and read handles to the services), and the request's function gets only the
snapshot and its params. Nothing off the loop reads `ls.session` or `ls.workspace`, so a
didChange or a configuration change cannot alter state under a running request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pygls.uris import from_fs_path, to_fs_path

from lsp_server.client_features import ClientFeatures
from lsp_server.config import Config
from lsp_server.positions import PositionEncoding
from lsp_server.session import DocumentSnapshot, disk_text

if TYPE_CHECKING:
    from indexing.service import CodeIndex
    from inference.completion import CompletionService
    from inference.worker import ModelWorker
    from lsp_server.server import TreellamaServer

Params = TypeVar("Params")
Result = TypeVar("Result")


@dataclass(frozen=True)
class OpenDocuments:
    """The open documents' texts and versions when the snapshot was taken."""

    texts: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)

    def text_of(self, path: Path, *, strict: bool = False) -> tuple[str | None, int | None]:
        """An open document's text and version, else the file on disk (version None); None
        for a missing file, or with `strict`, one that is not UTF-8."""
        found = self.texts.get(from_fs_path(str(path)) or "")
        return found if found is not None else (disk_text(path, strict=strict), None)

    def version_of(self, uri: str) -> int | None:
        found = self.texts.get(uri)
        return found[1] if found is not None else None


@dataclass(frozen=True)
class RequestSnapshot:
    document: DocumentSnapshot | None  # the request's own document, when it names one
    client: ClientFeatures
    config: Config
    workspace_root: Path | None
    documents: OpenDocuments
    code_index: CodeIndex | None  # read handles: the services are safe to call from threads
    worker: ModelWorker
    completions: CompletionService
    model_parameters: int | None = None  # the loaded model's size, None when none is loaded

    @property
    def encoding(self) -> PositionEncoding:
        return self.client.position_encoding

    @property
    def path(self) -> Path | None:
        """The request's document on disk (its URI as a path)."""
        if self.document is None:
            return None
        return Path(to_fs_path(self.document.uri) or self.document.uri)

    def text_of(self, path: Path) -> str | None:
        return self.documents.text_of(path)[0]

    def root_for(self, path: Path) -> Path:
        """The workspace root, or the file's folder when there is none."""
        return self.workspace_root or path.parent


def take_snapshot(ls: TreellamaServer, uri: str | None = None) -> RequestSnapshot:
    """On the event loop only. Raises UnknownDocumentError for a `uri` that is not open."""
    session = ls.session
    texts = {u: (d.source, d.version) for u, d in ls.workspace.text_documents.items()}
    return RequestSnapshot(
        ls.snapshot(uri) if uri is not None else None,
        session.client,
        session.config,
        session.workspace_root,
        OpenDocuments(texts),
        ls.code_index,
        ls.worker,
        ls.completions,
        model_parameters(ls),
    )


def model_parameters(ls: TreellamaServer) -> int | None:
    info = ls.models.status.info
    return None if info is None else int(getattr(info, "n_params", 0) or 0)


def document_uri(params: Any) -> str:
    return str(params.text_document.uri)


def background_request(
    server: TreellamaServer,
    method: str,
    options: Any = None,
    *,
    uri: Callable[[Any], str] | None = document_uri,
) -> Callable[[Callable[[RequestSnapshot, Params], Result]], Callable[..., Awaitable[Result]]]:
    """Registers `run(snapshot, params)` for `method`: the snapshot is taken on the loop (of
    the document `uri(params)` names, if any) and `run` goes to a thread."""

    def register(
        run: Callable[[RequestSnapshot, Params], Result],
    ) -> Callable[..., Awaitable[Result]]:
        async def handler(ls: TreellamaServer, params: Params) -> Result:
            snapshot = take_snapshot(ls, uri(params) if uri is not None else None)
            return await asyncio.to_thread(run, snapshot, params)

        handler.__name__ = run.__name__
        server.feature(method, options)(handler)
        return handler

    return register
