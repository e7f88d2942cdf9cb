"""Work-done progress (`window/workDoneProgress`), set up in one place: a bar the client may
refuse or not support, in which case every call is a no-op and the work goes on without it."""

from __future__ import annotations

import logging
import uuid

from lsprotocol import types

from lsp_server.server import TreellamaServer

log = logging.getLogger(__name__)


class WorkDone:
    """One progress bar. Its methods run on the event loop."""

    def __init__(self, ls: TreellamaServer, token: str | None) -> None:
        self.ls = ls
        self.token = token

    @classmethod
    async def begin(
        cls,
        ls: TreellamaServer,
        title: str,
        message: str,
        *,
        kind: str = "work",
        percentage: int | None = None,
        token: str = "",
    ) -> WorkDone:
        """`kind` names the token (treellama-index-…, treellama-model-…) for clients and logs."""
        if not ls.session.client.work_done_progress:
            return cls(ls, None)
        token = token or f"treellama-{kind}-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=title, message=message, percentage=percentage, cancellable=False
                ),
            )
        except Exception as exc:  # the client refused: carry on without a progress bar
            log.info("no work-done progress for %r: %s", message, exc)
            return cls(ls, None)
        return cls(ls, token)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token is not None:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.token = None
