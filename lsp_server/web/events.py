"""Agent task events for the browser: numbered as they happen, kept (bounded) so that a page
that reconnects with `Last-Event-ID` gets what it missed, and pushed to every open stream.

`publish` is the TaskManager's event callback (it runs on a task's thread); the streams wait
on the event loop, woken through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from agent.loop.agent_loop import Event
from agent.task_views import event_payload
from agent.tasks import TaskState

KEEP = 5000  # events kept for resuming, over all tasks


@dataclass(frozen=True)
class Published:
    id: int
    task_id: str
    data: dict[str, Any]


class TaskEvents:
    def __init__(self, keep: int = KEEP) -> None:
        self._lock = threading.Lock()
        self._records: deque[Published] = deque(maxlen=keep)
        self._next = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def publish(self, state: TaskState, event: Event) -> None:
        with self._lock:
            self._next += 1
            self._records.append(Published(self._next, state.id, event_payload(state, event)))
            waiters = list(self._waiters)
        for loop, flag in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(flag.set)

    @property
    def last_id(self) -> int:
        with self._lock:
            return self._next

    def after(self, last_id: int, task_id: str | None = None) -> list[Published]:
        with self._lock:
            return [
                r
                for r in self._records
                if r.id > last_id and (task_id is None or r.task_id == task_id)
            ]

    async def wait(self, last_id: int, timeout: float) -> None:
        """Until an event after `last_id` exists, or `timeout` (then the stream sends a
        keep-alive comment)."""
        flag = asyncio.Event()
        waiter = (asyncio.get_running_loop(), flag)
        with self._lock:
            if self._next > last_id:
                return
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(flag.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
