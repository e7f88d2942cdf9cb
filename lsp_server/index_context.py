"""The wiring between the workspace index and the completion engine: retrieval's snippets, as
the context chunks the prompt takes (indexing and inference do not know each other)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexing.service import CodeIndex
from inference.fim import ContextChunk


@dataclass
class RetrievalSwitch:
    """Whether the index's snippets go into the completion prompt: decided on the event loop
    whenever the configuration or the model changes (refresh_retrieval), read by the
    completion worker, which never looks at the server's live state itself."""

    on: bool = False

    def __call__(self) -> bool:
        return self.on


class IndexContextSource:
    """Plugs retrieval into the completion engine (inference.context.ContextSource). Chunks
    come best last, so they sit next to the file and survive packing into the budget."""

    def __init__(
        self,
        index: CodeIndex,
        enabled: Callable[[], bool],
        recent_paths: Callable[[str, int], Sequence[str]] = lambda uri, line: (),
    ) -> None:
        self.index = index
        self.enabled = enabled
        self.recent_paths = recent_paths

    def chunks_for(
        self, uri: str, path: str, text: str, line: int, window_start: int
    ) -> Sequence[ContextChunk]:
        if not self.enabled():
            return ()
        recent = self.recent_paths(uri, line)
        found = self.index.retrieve(uri, text, line, window_start, recent)
        return [ContextChunk(s.path, s.text, "index") for s in reversed(found.snippets)]
