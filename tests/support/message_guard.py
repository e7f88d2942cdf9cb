"""Records every error response and window message the test clients receive, so that the e2e
tests can check that none of them is empty or ends in an empty "Fix:".

It wraps the client side of pygls's JSON-RPC protocol in this (the test) process only; the
server runs in its own process and is not touched."""

from __future__ import annotations

import re
from typing import Any

from pygls.protocol.json_rpc import JsonRPCProtocol

SEEN: list[str] = []
_EMPTY = re.compile(r"(Fix:\s*\.?\s*$)|(^\s*(treellama:)?\s*\.?\s*$)|(treellama:\s*\.)")

_original_response = JsonRPCProtocol._handle_response
_original_notification = JsonRPCProtocol._handle_notification


def _recording_response(self: Any, msg_id: Any, result: Any = None, error: Any = None) -> Any:
    if error is not None:
        SEEN.append(str(getattr(error, "message", "")))
    return _original_response(self, msg_id, result, error)


def _recording_notification(self: Any, method_name: str, params: Any) -> Any:
    if method_name in ("window/showMessage", "window/showMessageRequest"):
        SEEN.append(str(getattr(params, "message", "")))
    return _original_notification(self, method_name, params)


def install() -> None:
    JsonRPCProtocol._handle_response = _recording_response  # type: ignore[method-assign]
    JsonRPCProtocol._handle_notification = _recording_notification  # type: ignore[method-assign]


def empty_messages(messages: list[str]) -> list[str]:
    """The messages that tell the user nothing: empty, or with nothing after "Fix:"."""
    return [m for m in messages if _EMPTY.search(m)]
