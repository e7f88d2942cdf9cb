"""textDocument/completion with a single AI item, for clients without inline completion.

The item replaces the word before the cursor with that word plus the suggestion, so the
client's own filtering keeps it while the user types; the list is marked incomplete so that
the client asks again rather than reusing a stale suggestion.
"""

from __future__ import annotations

import re

from lsprotocol import types

from lsp_server.features.inline_completion import request_at
from lsp_server.positions import PositionEncoding
from lsp_server.server import TreellamaServer

_WORD_BEFORE = re.compile(r"[\w$]*$")


def ai_completion_item(
    line_before: str, position: types.Position, suggestion: str, encoding: PositionEncoding
) -> types.CompletionItem:
    word = _WORD_BEFORE.search(line_before)
    typed = word.group(0) if word else ""
    start = types.Position(position.line, max(0, position.character - encoding.units(typed)))
    first_line = suggestion.split("\n", 1)[0]
    return types.CompletionItem(
        label=(typed + first_line).strip() or suggestion.strip()[:60],
        kind=types.CompletionItemKind.Snippet,
        detail="treellama",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```\n{typed}{suggestion}\n```"
        ),
        filter_text=typed + first_line,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(types.Range(start, position), typed + suggestion),
        sort_text="0",
    )


def register(server: TreellamaServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False),
    )
    async def completion(
        ls: TreellamaServer, params: types.CompletionParams
    ) -> types.CompletionList:
        empty = types.CompletionList(is_incomplete=True, items=[])
        if ls.session.client.inline_completion:
            return empty  # the client shows our suggestions as ghost text instead
        request = await request_at(ls, params.text_document.uri, params.position)
        result = await ls.complete(request)
        if result is None or not result.text:
            return empty
        item = ai_completion_item(
            result.cursor.line_before,
            params.position,
            result.text,
            ls.session.client.position_encoding,
        )
        return types.CompletionList(is_incomplete=True, items=[item])
