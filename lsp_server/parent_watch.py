"""Exit when the editor that started us is gone (LSP: initialize's `processId`).

Editors normally close our stdin when they exit, which ends the server; this covers the ones
that die without doing so, which would otherwise leave a model in memory for good.
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours to signal
    return True


async def exit_when_gone(pid: int, poll_seconds: float = POLL_SECONDS) -> None:
    while process_alive(pid):
        await asyncio.sleep(poll_seconds)
    log.warning("the editor process %s is gone; exiting", pid)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)  # no shutdown was received: exit code 1, as the LSP spec asks
