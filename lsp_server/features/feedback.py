"""What happened to our suggestions, and what the model saw.

- `treellama/didShowCompletion {id}`: the editor displayed a suggestion;
- `treellama/didAcceptCompletion {id, acceptedLength}`: the user took all of it or a part
  (a word, a line); `acceptedLength` counts code units of the negotiated position encoding,
  as the client's own string lengths do (bytes in Neovim, UTF-16 units in VS Code);
- `treellama.acceptedCompletion [id]` (command): the whole suggestion was accepted;
- `treellama.showLastPrompt`: exactly what the model saw for the last completion;
- `treellama.stats`: local statistics, also shown by `treellama stats`.
Everything stays in the user's cache directory.
"""

from __future__ import annotations

import logging
from typing import Any

from inference.stats import read_stats, summarize
from lsp_server.completion_report import last_prompt_report
from lsp_server.features.inline_completion import ACCEPTED_COMMAND
from lsp_server.positions import column_in_line
from lsp_server.server import TreellamaServer

log = logging.getLogger(__name__)

DID_SHOW = "treellama/didShowCompletion"
DID_ACCEPT = "treellama/didAcceptCompletion"
SHOW_LAST_PROMPT = "treellama.showLastPrompt"
STATS = "treellama.stats"


def _field(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def register(server: TreellamaServer) -> None:
    @server.feature(DID_SHOW)
    def did_show(ls: TreellamaServer, params: Any) -> None:
        completion_id = _field(params, "id")
        if isinstance(completion_id, str):
            ls.stats.shown(completion_id)

    @server.feature(DID_ACCEPT)
    def did_accept(ls: TreellamaServer, params: Any) -> None:
        completion_id = _field(params, "id")
        length = _field(params, "acceptedLength")
        if not isinstance(completion_id, str):
            log.warning("%s without an id: %r", DID_ACCEPT, params)
            return
        if not isinstance(length, int) or isinstance(length, bool):
            ls.stats.accepted(completion_id, None)
            return
        text = ls.stats.suggestion(completion_id)
        encoding = ls.session.client.position_encoding
        chars = column_in_line(text, length, encoding) if text is not None else length
        ls.stats.accepted(completion_id, chars)

    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: TreellamaServer, *args: Any) -> None:
        if args and isinstance(args[0], str):
            ls.stats.accepted(args[0], None)

    @server.command(SHOW_LAST_PROMPT)
    def show_last_prompt(ls: TreellamaServer, *args: Any) -> dict[str, Any] | None:
        last = ls.completions.last
        return None if last is None else last_prompt_report(last)

    @server.command(STATS)
    def stats(ls: TreellamaServer, *args: Any) -> dict[str, Any]:
        return summarize(read_stats(ls.stats.path))
