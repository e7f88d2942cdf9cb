"""JSON-RPC dispatch on top of pygls, with one answer for every request.

pygls 2.1 deserialises a message inside `json.loads`' object hook, so a request whose params
do not match the LSP schema raises there and is never answered; a request after `shutdown`
is dropped silently. Here each decoded payload is checked and structured first, and every
failure becomes an error response carrying the request's id:

- not a JSON-RPC 2.0 object: -32600 InvalidRequest;
- params that do not fit the method's schema: -32602 InvalidParams, naming the bad field;
- a request before `initialize`: -32002 ServerNotInitialized;
- a request after `shutdown`: -32600 InvalidRequest.
"""

from __future__ import annotations

import logging
from typing import Any

import cattrs
from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002

RequestId = int | str | None


def envelope_problem(payload: Any) -> tuple[RequestId, str] | None:
    """Why `payload` is not a JSON-RPC 2.0 message we can dispatch, with the id to answer."""
    if not isinstance(payload, dict):
        kind = "a batch" if isinstance(payload, list) else type(payload).__name__
        return None, f"expected a JSON-RPC message object, got {kind}"
    msg_id = payload.get("id")
    valid_id = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
    answer_id = msg_id if valid_id else None
    if payload.get("jsonrpc") != "2.0":
        return answer_id, 'missing or wrong "jsonrpc" member; expected "2.0"'
    if "id" in payload and not valid_id:
        return None, f"invalid id {msg_id!r}; expected an integer or a string"
    if "method" in payload:
        if not isinstance(payload["method"], str):
            return answer_id, '"method" must be a string'
        params = payload.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return answer_id, '"params" must be an object or an array'
        return None
    if not valid_id or ("result" not in payload and "error" not in payload):
        return None, "message is neither a request, a notification nor a response"
    return None


def describe_structure_error(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    if isinstance(cause, cattrs.ClassValidationError):
        details = cattrs.transform_error(cause, path="$")
        return "; ".join(details[:5])
    return str(cause) or type(cause).__name__


class TreellamaProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        # The text of each document just before its latest change: incremental parsing needs
        # it, and pygls has already applied the change when our didChange handler runs.
        self.text_before_change: dict[str, str] = {}

    def send_error(self, msg_id: RequestId, code: int, message: str) -> None:
        # A plain dict: the typed message would drop a null id, which JSON-RPC requires.
        self._send_data(
            {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        )

    def dispatch(self, payload: Any) -> None:
        """Handles one decoded JSON value from the client."""
        problem = envelope_problem(payload)
        if problem is not None:
            msg_id, detail = problem
            log.warning("invalid message: %s", detail)
            self.send_error(msg_id, INVALID_REQUEST, f"Invalid request: {detail}")
            return
        is_request = "method" in payload and "id" in payload
        try:
            message = self.structure_message(payload)
        except Exception as exc:
            detail = describe_structure_error(exc)
            method = payload.get("method", "response")
            log.warning("invalid params for %s: %s", method, detail)
            if is_request:
                self.send_error(
                    payload["id"], INVALID_PARAMS, f"Invalid params for {method}: {detail}"
                )
            return
        self.handle_message(message)

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        is_request = method is not None and getattr(message, "id", None) is not None
        if is_request:
            if self._shutdown:
                self.send_error(message.id, INVALID_REQUEST, "the server is shutting down")
                return
            if method == types.INITIALIZE:
                if self.initialize_received:
                    self.send_error(message.id, INVALID_REQUEST, "already initialized")
                    return
                self.initialize_received = True
            elif not self.initialize_received:
                self.send_error(message.id, SERVER_NOT_INITIALIZED, f"{method} before initialize")
                return
        elif method is not None and not self.initialize_received and method != types.EXIT:
            log.warning("dropping notification %s sent before initialize", method)
            return
        super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        uri = params.text_document.uri
        document = self.workspace.text_documents.get(uri)
        if document is None:
            log.warning("didChange for %s, which is not open; ignored", uri)
            return None
        self.text_before_change[uri] = document.source
        return (yield from super().lsp_text_document__did_change(params))

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        uri = params.text_document.uri
        if uri not in self.workspace.text_documents:
            log.warning("didClose for %s, which is not open; ignored", uri)
            return None
        self.text_before_change.pop(uri, None)
        return (yield from super().lsp_text_document__did_close(params))
