"""What the user is told at start and after a configuration change: bad settings (the
defaults used instead), and the model load as work-done progress, then how it went."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future

from lsprotocol import types

from inference.model_manager import ModelStatus
from lsp_server.config import ConfigProblem
from lsp_server.index_startup import refresh_retrieval
from lsp_server.progress import WorkDone
from lsp_server.server import TreellamaServer

log = logging.getLogger(__name__)


def report_config_problems(ls: TreellamaServer, problems: list[ConfigProblem]) -> None:
    if not problems:
        return
    for problem in problems:
        log.warning("configuration: %s", problem)
    listed = "; ".join(str(problem) for problem in problems)
    ls.show_message(
        f"treellama: bad configuration, defaults used instead. {listed}",
        types.MessageType.Warning,
    )


async def report_model_load(ls: TreellamaServer, load: Future[ModelStatus]) -> None:
    """Shows a running model load as work-done progress, then says how it went."""
    settings = ls.session.config.model
    backend = ls.session.config.backend
    what = backend.url if backend.kind == "http" else settings.path or settings.name
    progress = await WorkDone.begin(ls, "treellama", f"loading model {what}", kind="model")
    status = await asyncio.wrap_future(load)
    refresh_retrieval(ls)  # the model's size decides whether retrieval pays
    progress.end(status.message)
    if status.info is not None:
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Info,
                message=f"treellama: {status.message} in {status.load_ms:.0f} ms",
            )
        )
    else:
        ls.show_message(
            f"treellama: {status.message}. Fix: {status.fix}. "
            "Features that need no model keep working.",
            types.MessageType.Error,
        )
