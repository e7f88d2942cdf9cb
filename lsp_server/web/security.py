"""The web server is reachable from this machine's own browser and from nothing else.

An ASGI middleware in front of every route, in the order a request meets it:
- `Host` must name this machine's loopback (127.0.0.1, localhost, [::1], at any port, since a
  local proxy such as code-server's /proxy/PORT/ passes its own) or the host the server was
  explicitly bound to: a DNS-rebinding page that resolves its own name to 127.0.0.1 sends its
  own name and gets 403;
- `Origin`, where a browser sends one, must be the request's own (the Host it came to; the
  scheme is not compared, since a local TLS proxy changes only that) or one configured in
  `web.allowed_origins`, on every mutating request and on the event stream (403): another
  page, even one on another local port, cannot act through the user's cookie;
- the per-start random token must come as `Authorization: Bearer`, as the cookie the page's
  first visit set, or as `?token=` (that first visit, in the manner of Jupyter): else 401;
- bodies are capped (413), by `Content-Length` and while reading.
Errors use OpenAI's error shape, so API clients and the page read them the same way.
There is no CORS unless origins are configured (lsp_server.web.app adds it for those only).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

TOKEN_COOKIE = "treellama_token"
MAX_BODY_BYTES = 1 << 20  # task instructions and chat prompts
# A new task's body may carry pasted screenshots as data URIs (each under agent.images' cap).
TASK_BODY_BYTES = 32 << 20
TASKS_PATH = "/api/v1/tasks"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::\d{1,5})?$")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Guard:
    token: str
    names: frozenset[str]  # host names accepted in Host, lowercased, without the port
    origins: frozenset[str] = frozenset()  # other pages' origins allowed (web.allowed_origins)
    max_body: int = MAX_BODY_BYTES
    max_task_body: int = TASK_BODY_BYTES  # POST /api/v1/tasks, which may carry images

    @classmethod
    def for_address(
        cls,
        host: str,
        token: str | None = None,
        max_body: int = MAX_BODY_BYTES,
        allowed_origins: tuple[str, ...] = (),
        max_task_body: int = TASK_BODY_BYTES,
    ) -> Guard:
        names = {*LOOPBACK, host.lower()}
        names |= {f"[{name}]" for name in names if ":" in name and not name.startswith("[")}
        return cls(
            token or secrets.token_urlsafe(24),
            frozenset(names),
            frozenset(origin.rstrip("/").lower() for origin in allowed_origins),
            max_body=max_body,
            max_task_body=max_task_body,
        )

    def host_ok(self, host: str) -> bool:
        match = _HOST.match(host.lower())
        return match is not None and match.group(1) in self.names

    def origin_ok(self, origin: str, host: str) -> bool:
        """`host` has passed `host_ok`: the page's own origin is the Host it was served from."""
        origin = origin.rstrip("/").lower()
        return origin.partition("://")[2] == host.lower() or origin in self.origins

    def cap(self, path: str) -> int:
        """The body cap for a request to `path`: a new task may carry its images."""
        return self.max_task_body if path.rstrip("/") == TASKS_PATH else self.max_body

    def token_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given or "", self.token)


def error_body(status: int, message: str, kind: str, code: str | None = None) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code or str(status)}}
    ).encode()


async def refuse(send: Send, status: int, message: str, kind: str, code: str = "") -> None:
    body = error_body(status, message, kind, code or None)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="treellama"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def given_token(scope: Scope, headers: dict[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    cookie = _cookie(headers.get("cookie", ""), TOKEN_COOKIE)
    if cookie:
        return cookie
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]


class GuardMiddleware:
    def __init__(self, app: Callable[..., Awaitable[None]], guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        guard = self.guard
        host = headers.get("host", "")
        if not guard.host_ok(host):
            await refuse(
                send,
                403,
                "this server answers only to its own address (Host)",
                "permission_error",
                "bad_host",
            )
            return
        origin = headers.get("origin")
        checked = scope["method"] in MUTATING or scope["path"].endswith("/events")
        if origin is not None and checked and not guard.origin_ok(origin, host):
            await refuse(
                send,
                403,
                f"requests from {origin} are not allowed (Origin)",
                "permission_error",
                "bad_origin",
            )
            return
        if not guard.token_ok(given_token(scope, headers)):
            await refuse(
                send,
                401,
                "a valid token is needed: open the URL treellama printed "
                "(?token=...), or send Authorization: Bearer <token>",
                "authentication_error",
                "invalid_api_key",
            )
            return
        length, cap = headers.get("content-length"), guard.cap(scope.get("path", ""))
        if length is not None and (not length.isdigit() or int(length) > cap):
            await refuse(
                send,
                413,
                f"the body is over {cap} bytes",
                "invalid_request_error",
                "body_too_large",
            )
            return
        await self._capped(scope, receive, send)

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Counts the body as it is read, for bodies sent without a Content-Length."""
        seen = [0]
        started = [False]
        cap = self.guard.cap(scope.get("path", ""))

        async def capped_receive() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > cap:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, capped_receive, tracked_send)
        except BodyTooLarge:
            if not started[0]:
                await refuse(
                    send,
                    413,
                    f"the body is over {cap} bytes",
                    "invalid_request_error",
                    "body_too_large",
                )
