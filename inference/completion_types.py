"""What a completion is asked with and answers, for every front end: the request (a
document snapshot and a cursor), the completion, and what the service prepares between."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from inference.backend import Generation
from inference.fim import (
    ContextChunk,
)
from inference.postprocess import CursorContext
from inference.settings import CompletionSettings
from inference.text import FimWindow
from inference.timing import KeystrokeTiming


@runtime_checkable
class SeveralSuggestions(Protocol):
    """An engine that decodes several completions of one prompt side by side."""

    def suggestions(
        self, prompt_text: str, temperatures: list[float], *, max_tokens: int,
        is_cancelled: Callable[[], bool], should_stop: Callable[[str], bool] = ...,
        max_predict_s: float | None = None, heal: str = "", seed: int = 0,
        core_marker: str | None = None, prefix_end_marker: str | None = None,
    ) -> list[Generation]: ...  # fmt: skip


class ModelNotReady(Exception):
    """No model is loaded, or it cannot complete code; the message says why and what to do."""


@dataclass(frozen=True)
class CompletionRequest:
    key: str  # the document URI: a newer request with the same key cancels this one
    text: str
    line: int
    column: int  # in code points (a str index into the line); front ends convert positions
    path: str = ""  # relative to the workspace, for repository-level prompts
    repo: str = ""
    language: str = ""
    count: int = 1  # suggestions wanted: several when the user asks, one while typing


@dataclass(frozen=True)
class Completion:
    id: str
    text: str  # what to insert at the cursor; "" when there is nothing worth showing
    source: str  # "model" or "cache"
    cursor: CursorContext
    elapsed_ms: float
    prompt: str = ""
    family: str = ""
    generation: Generation | None = None
    chunks: tuple[ContextChunk, ...] = field(default=())
    layout: str = ""  # "line" or "cursor" (inference.fim)
    timing: KeystrokeTiming | None = None
    middle: str = ""  # what followed the middle marker (the cursor's line, in the line layout)
    alternatives: tuple[str, ...] = ()  # further distinct suggestions, when several were asked


@dataclass(frozen=True)
class _Prepared:
    request: CompletionRequest
    offset: int
    window: FimWindow
    chunks: tuple[ContextChunk, ...]
    settings: CompletionSettings
    started: float
    window_start: int  # the first line the prefix window is meant to show (sources skip it)
    prepared_at: float = 0.0  # when the windows and chunks were ready


@dataclass(frozen=True)
class PromptContext:
    window_start: int
    line_before: str  # the cursor's line up to the cursor, as the prompt splits it
    line_after: str
    chunks: tuple[ContextChunk, ...]  # the other code the prompt would carry, in order


def _new_id() -> str:
    return uuid.uuid4().hex[:12]
