"""The treellama language server: session state plus the services handlers call into."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from indexing.open_trees import OpenTrees
from indexing.service import CodeIndex
from inference.completion import Completion, CompletionRequest, CompletionService, ModelNotReady
from inference.model_manager import ModelManager, ModelState
from inference.stats import StatsRecorder
from inference.worker import JobCancelled
from lsp_server import __version__
from lsp_server.index_context import RetrievalSwitch
from lsp_server.protocol import TreellamaProtocol
from lsp_server.services import ModelUnavailable, build_services
from lsp_server.session import DocumentSnapshot, Session, snapshot_document

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803


class RequestFailed(JsonRpcException):
    """The one error a treellama request answers with when it cannot do what was asked; the
    message says why, in words for the user."""

    CODE = REQUEST_FAILED


class TreellamaServer(LanguageServer):
    protocol: TreellamaProtocol

    def __init__(self, agent_model_for: Any = None) -> None:
        """`agent_model_for(cancel)` makes the model agent tasks use; by default, the loaded
        model through the worker. Tests inject a scripted one here
        (tests/support/scripted_server.py)."""
        super().__init__(
            "treellama",
            __version__,
            protocol_cls=TreellamaProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.session = Session()
        self.services = build_services()  # lsp_server.services: the same for every front end
        self.worker = self.services.worker
        self.stats = StatsRecorder()
        self.completions = CompletionService(self.worker, stats=self.stats)
        self.prefill_timer: asyncio.TimerHandle | None = None
        self.parent_watch: asyncio.Future[None] | None = None
        self.open_trees = OpenTrees()
        self.code_index: CodeIndex | None = None  # opened once the workspace root is known
        self.retrieval = RetrievalSwitch()  # set on the loop: index_startup.refresh_retrieval
        self.index_task: asyncio.Future[None] | None = None
        self.agent: Any = None  # agent_frontend.AgentFrontend, made at the first command
        self.web: Any = None  # web.server.WebServer, when web.enabled
        self.agent_model_for: Any = agent_model_for

    @property
    def models(self) -> ModelManager:
        return self.services.models

    @models.setter
    def models(self, manager: ModelManager) -> None:  # tests load through their own engines
        self.services.models = manager

    def close_services(self) -> None:
        """Stops background work that would otherwise keep the process alive at exit."""
        self.services.close()  # the code index and the task managers
        if self.web is not None:
            self.web.stop()

    def show_message(self, message: str, kind: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def snapshot(self, uri: str) -> DocumentSnapshot:
        """The open document as it is now, with the negotiated position encoding."""
        return snapshot_document(self.workspace, uri, self.session.client.position_encoding)

    async def model_ready(self) -> Any:
        """The loaded model's info, once any load in progress (the first one, or one a
        configuration change started while waiting) has finished. Every feature that needs the
        model asks here; when none can be used, the error names the problem and the fix."""
        try:
            return await self.services.model_ready()
        except ModelUnavailable as exc:
            raise RequestFailed(f"treellama: {exc}") from None

    async def warm(self, request: CompletionRequest) -> None:
        """Reads the prompt at a resting cursor into the model's cache, at the lowest priority
        (CompletionService.warm); nothing when completion is off or no model is ready."""
        settings = self.session.config.completion
        ready = self.models.status.state is ModelState.READY
        if settings.enabled and ready and request.key in self.workspace.text_documents:
            completions = self.completions  # a service, safe off the loop; the server is not
            await asyncio.to_thread(completions.warm, request, settings)

    async def complete(self, request: CompletionRequest) -> Completion | None:
        """Runs a completion off the loop; None when disabled or superseded by a newer keystroke."""
        if not self.session.config.completion.enabled:
            return None
        await self.model_ready()
        # Preparing is cheap but walks the text: keep it off the event loop too.
        future, cancel = await asyncio.to_thread(
            self.completions.submit, request, self.session.config.completion
        )
        try:
            completion = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            cancel.set()  # $/cancelRequest: stop generating at the next token
            raise
        except JobCancelled:
            return None
        except ModelNotReady as exc:
            raise RequestFailed(f"treellama: {exc}") from None
        generation = completion.generation
        if generation is not None and generation.stop_reason == "cancelled":
            return None
        return completion
