"""What every way of running a task shares, below both the pipeline and the tool loop: the
events it reports, cancel, steering messages taken between steps, and the trajectory."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.trajectory import Trajectory


class TaskCancelled(Exception):
    pass


@dataclass(frozen=True)
class Event:
    # reproduce, localize, candidate, validate, plan, tool_call, tool_result, diff, steer,
    # compaction, format_error, chosen, closest, done, failed
    kind: str
    step: int
    message: str
    data: dict[str, Any] = field(default_factory=dict)


class TaskRun:
    """Emits events to the trajectory and the front end; hands steering messages over."""

    trajectory: Trajectory | None
    on_event: Callable[[Event], None]
    cancel_event: threading.Event
    step: int

    def _init_run(
        self, trajectory: Trajectory | None, on_event: Callable[[Event], None],
        cancel: threading.Event,
    ) -> None:  # fmt: skip
        self.trajectory, self.on_event, self.cancel_event = trajectory, on_event, cancel
        self.step = 0
        self.steering: queue.SimpleQueue[str] = queue.SimpleQueue()

    @property
    def cancel(self) -> threading.Event:
        return self.cancel_event

    def steer(self, message: str) -> None:
        self.steering.put(message)

    def steering_messages(self) -> list[str]:
        taken: list[str] = []
        while True:
            try:
                taken.append(self.steering.get_nowait())
            except queue.Empty:
                return taken

    def _emit(self, kind: str, message: str, **data: Any) -> None:
        if self.trajectory is not None:
            self.trajectory.write(kind, step=self.step, message=message, **data)
        self.on_event(Event(kind, self.step, message, data))
