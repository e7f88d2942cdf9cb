"""The params of treellama's own notifications, read in one place: a malformed one is None
(a notification has no answer to carry an error, and it must never stop the server)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types


def field(params: Any, name: str) -> Any:
    """A field of params that pygls hands over as a dict or as an object."""
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


def rest_position(params: Any) -> tuple[str, types.Position] | None:
    """The document and position of treellama/didRestCursor {uri, position}."""
    uri, position = field(params, "uri"), field(params, "position")
    line, character = field(position, "line"), field(position, "character")
    if not isinstance(uri, str) or not isinstance(line, int) or not isinstance(character, int):
        return None
    if line < 0 or character < 0:
        return None
    return uri, types.Position(line=line, character=character)
