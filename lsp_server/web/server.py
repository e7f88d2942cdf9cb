"""Running the web app: inside the language server (on its event loop, sharing its task
manager and model worker) or standalone (`treellama web --workspace DIR`).

The socket is bound first, so the guard knows the port; uvicorn serves on it with its own
logging off (treellama's goes to stderr; stdout may be the LSP stream). Binding anywhere but
loopback needs `web.host` set explicitly, and says so with a warning.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from agent import task_views
from agent.model import AgentModel
from inference.paths import stats_file
from inference.worker import ModelWorker
from lsp_server.config import Config
from lsp_server.services import Services, build_services
from lsp_server.web.app import create_app
from lsp_server.web.approvals import PageApprover
from lsp_server.web.core import WebCore
from lsp_server.web.events import TaskEvents
from lsp_server.web.security import MAX_BODY_BYTES, TASK_BODY_BYTES, Guard

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class WebServer:
    """A bound socket, the guard for its address, and uvicorn serving the app on it."""

    core: WebCore
    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    max_body: int = MAX_BODY_BYTES
    max_task_body: int = TASK_BODY_BYTES
    allowed_origins: tuple[str, ...] = ()  # other pages that may call it (CORS), none by default

    def __post_init__(self) -> None:
        if not is_loopback(self.host):
            log.warning("the web server listens on %s: reachable from other machines, behind "
                        "its token only", self.host)  # fmt: skip
        self.socket = bind(self.host, self.port)
        self.port = self.socket.getsockname()[1]
        self.guard = Guard.for_address(
            self.host, self.token, self.max_body, self.allowed_origins, self.max_task_body
        )
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        self.url = f"http://{shown}:{self.port}/?token={self.guard.token}"
        self.core.url = self.url
        app = create_app(self.core, self.guard)
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    async def serve(self) -> None:
        """On the caller's event loop (the language server's)."""
        await self.server.serve(sockets=[self.socket])

    def start_in_thread(self) -> None:
        """On a thread of its own, with its own loop; returns once it accepts requests."""
        self.thread = threading.Thread(target=lambda: asyncio.run(self.serve()), daemon=True,
                                       name="treellama-web")  # fmt: skip
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=5)


def standalone_core(
    root: Path,
    config: Config,
    model_for: Callable[[threading.Event], AgentModel] | None = None,
    worker: ModelWorker | None = None,
) -> tuple[WebCore, Services]:
    """The web app's own services (lsp_server.services), for use without an editor: the
    model, the workspace's code index, the task manager. Commands that need an approval are
    asked in the page (lsp_server.web.approvals)."""
    services = build_services(worker)
    if model_for is None:
        services.load_model(config.model, config.backend)
    if services.open_index(root, config.index) is not None:
        services.scan()
    events = TaskEvents()
    approver = PageApprover(events)
    manager = services.task_manager(root, config.agent, approver, events.publish, model_for)
    approver.manager = manager

    async def apply(task_id: str) -> dict[str, Any]:
        _, answer = await asyncio.to_thread(task_views.apply_to_files, manager, task_id)
        return answer

    name = config.model.path or config.model.name
    core = WebCore(
        manager,
        events,
        services.worker,
        name,
        apply,
        services.model_ready,
        str(stats_file()),
        agent_needs_model=model_for is None,
        approvals=approver,
    )
    return core, services


def run_standalone(root: Path, config: Config, host: str, port: int) -> int:
    core, services = standalone_core(root, config)
    server = WebServer(core, host, port, allowed_origins=config.web.allowed_origins)
    sys.stderr.write(f"treellama web: {server.url}\n")
    sys.stderr.flush()
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0
