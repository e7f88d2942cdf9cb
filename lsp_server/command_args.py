"""The arguments of treellama's workspace/executeCommand commands, read in one place: one
object `{uri, range?, position?, ...}`; a missing or malformed field is a RequestFailed that
says what the command takes."""

from __future__ import annotations

from typing import Any

from lsp_server.server import RequestFailed


def params_of(args: tuple[Any, ...]) -> dict[str, Any]:
    return args[0] if args and isinstance(args[0], dict) else {}


def uri_of(params: dict[str, Any], usage: str) -> str:
    uri = params.get("uri")
    if not isinstance(uri, str):
        raise RequestFailed(usage)
    return uri


def lines_of(params: dict[str, Any], usage: str) -> tuple[int, int]:
    """The first and last line of `range` (last never before first)."""
    selection = params.get("range") or {}
    try:
        first = int(selection["start"]["line"])
        last = int(selection["end"]["line"])
    except (KeyError, TypeError, ValueError):
        raise RequestFailed(usage) from None
    return first, max(first, last)


def position_of(params: dict[str, Any], usage: str) -> tuple[int, int]:
    position = params.get("position") or {}
    try:
        return max(0, int(position.get("line", 0))), max(0, int(position.get("character", 0)))
    except (AttributeError, TypeError, ValueError):
        raise RequestFailed(usage) from None
