"""What the web app serves from: the same task manager and model worker the editor uses when it
runs inside the language server, or its own when standalone (`treellama web`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent.tasks import TaskManager
from inference.worker import ModelWorker
from lsp_server.web.approvals import PageApprover
from lsp_server.web.events import TaskEvents


@dataclass
class WebCore:
    manager: TaskManager
    events: TaskEvents
    worker: ModelWorker
    model_name: str
    # Applies a finished task: through the editor (workspace/applyEdit) inside the language
    # server; to the files on disk, refusing files changed since the task began, standalone.
    apply: Callable[[str], Awaitable[dict[str, Any]]]
    # Raises with a message when no model can be used (a load in progress is waited for).
    model_ready: Callable[[], Awaitable[Any]]
    stats_file: str = ""
    agent_needs_model: bool = True  # False with a scripted agent model (tests)
    url: str = ""  # where the page is, with its token (shown in treellama.status)
    # Standalone, approvals are asked in the page; inside the language server, in the editor.
    approvals: PageApprover | None = None
