"""The application core: what every front end runs on, made by one builder.

The language server (lsp_server.server), `treellama agent` (lsp_server.cli) and `treellama web`
(lsp_server.web.server) each call `build_services` and then, with the workspace known,
`open_index` and `task_manager`; so an agent task sees the code index whichever front end
started it. Whether a model can be used is answered here once, as `ModelUnavailable` with the
problem and its fix; each front end only says it in its own way (a JSON-RPC error, an HTTP
503, a line on stderr). This module imports nothing of the language server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.approvals import Approver
from agent.model import AgentModel, WorkerChatModel
from agent.settings import AgentSettings
from agent.task_run import Event
from agent.tasks import TaskManager, TaskState
from indexing.service import CodeIndex
from indexing.settings import IndexSettings
from inference.model_manager import ModelManager, ModelState
from inference.paths import index_dir
from inference.settings import BackendSettings, ModelSettings
from inference.worker import ModelWorker

log = logging.getLogger(__name__)

ModelFor = Callable[[threading.Event], AgentModel]
OnTaskEvent = Callable[[TaskState, Event], None]


class OpenedIndex:
    """The services' code index as a task's search sees it: a task manager can be made before
    the index is open (the language server opens it after `initialized`, off the loop), and
    its tasks search it from the moment it is."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def is_open(self) -> bool:
        return self.services.index is not None

    def search_code(self, query: str, limit: int = 10) -> list[Any]:
        index = self.services.index
        return index.retriever.search_code(query, limit=limit) if index is not None else []

    def find_symbol(self, query: str, limit: int = 20) -> list[Any]:
        index = self.services.index
        return index.retriever.find_symbol(query, limit=limit) if index is not None else []


class ModelUnavailable(Exception):
    """No model can be used now; the message names the problem and the fix."""


@dataclass
class Services:
    worker: ModelWorker
    models: ModelManager
    index: CodeIndex | None = None
    managers: list[TaskManager] = field(default_factory=list)

    def load_model(self, model: ModelSettings, backend: BackendSettings) -> Future[Any]:
        return self.models.load(model, backend)

    async def model_ready(self) -> Any:
        """The loaded model's info, once any load in progress has finished (a load a change
        of configuration started while waiting too)."""
        while (loaded := self.models.loaded) is not None and not loaded.done():
            try:
                await asyncio.wrap_future(loaded)
            except Exception:  # a failed load leaves its status behind, read below
                log.exception("the model load failed")
        return self._ready_info()

    def wait_model(self) -> Any:
        """model_ready, for a front end with no event loop (the terminal)."""
        while (loaded := self.models.loaded) is not None and not loaded.done():
            try:
                loaded.result()
            except Exception:
                log.exception("the model load failed")
        return self._ready_info()

    def _ready_info(self) -> Any:
        status = self.models.status
        if status.state is not ModelState.READY:
            raise ModelUnavailable(status.problem())
        return status.info

    def open_index(
        self, root: Path, settings: IndexSettings, reader: Any = None
    ) -> CodeIndex | None:
        """The workspace's code index, opened (not yet scanned: `scan`); None, logged, when it
        is off or cannot be opened (a read-only cache folder): tasks then run without it."""
        if not settings.enabled or not root.is_dir():
            return None
        try:
            self.index = (CodeIndex(root, settings, index_dir(), reader) if reader is not None
                          else CodeIndex(root, settings, index_dir()))  # fmt: skip
        except Exception:
            log.exception("cannot open the code index")
            return None
        return self.index

    def scan(self, report: Callable[[int, int], None] | None = None) -> Future[Any] | None:
        """Scans the opened index's workspace in the background."""
        if self.index is None:
            return None
        return self.index.start(report)

    def task_manager(
        self, root: Path, settings: AgentSettings, approver: Approver, on_event: OnTaskEvent,
        model_for: ModelFor | None = None,
    ) -> TaskManager:  # fmt: skip
        """The workspace's task manager, its tasks on the loaded model (or `model_for`'s, a
        scripted one in tests), searching the code index once it is open."""
        worker = self.worker
        manager = TaskManager(
            root, model_for or (lambda cancel: WorkerChatModel(worker, cancel)), settings,
            approver, on_event, OpenedIndex(self),
        )  # fmt: skip
        self.managers.append(manager)
        return manager

    def close(self) -> None:
        for manager in self.managers:
            manager.close()
        if self.index is not None:
            self.index.close()


def build_services(worker: ModelWorker | None = None) -> Services:
    worker = worker or ModelWorker()
    return Services(worker, ModelManager(worker))
