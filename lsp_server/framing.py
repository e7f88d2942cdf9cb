"""Base-protocol framing for JSON-RPC over a byte stream, without I/O.

pygls' reader trusts every `Content-Length` it sees: a wrong length desynchronises the stream
for good, a lowercase header is ignored, and a huge length is allocated. This framer is fed
bytes and yields parsed messages or errors, and it recovers where recovery is possible:

- headers are matched case-insensitively; bytes before a header are skipped and logged;
- a body that is too short fails to parse (one -32700 answer, with the request id when it can
  be read from the fragment) and the rest of it is skipped up to the next header;
- a body that is too long swallows the start of the next message: the first JSON value is
  kept and the surplus is pushed back to be framed again. If the client then waits, `stalled()`
  delivers the complete JSON value that is already there;
- a body over `max_body` bytes is answered with an error and discarded as it streams in,
  never buffered. If the declared bytes never arrive, framing is lost beyond recovery and
  `stalled()` reports a fatal error so that the server exits and the client restarts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BODY = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*[ \t]*:[^\r\n]*$")
_REQUEST_ID = re.compile(r'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


@dataclass(frozen=True)
class Message:
    payload: Any


@dataclass(frozen=True)
class FramingError:
    """Something the client sent could not be framed or parsed.

    `code` is set when the client should get an error response (with `request_id`, which may be
    None); `fatal` means the stream cannot be trusted any more."""

    detail: str
    code: int | None = None
    request_id: int | str | None = None
    fatal: bool = False


Event = Message | FramingError


def guess_request_id(fragment: str) -> int | str | None:
    """The id of a request whose body could not be parsed, if it can be read off the text."""
    if '"method"' not in fragment:
        return None  # a response or garbage: nobody is waiting for an answer
    match = _REQUEST_ID.search(fragment)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, (int, str)) else None


class Framer:
    def __init__(self, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.max_body = max_body
        self._buf = bytearray()
        self._body_length: int | None = None  # set while waiting for a body
        self._discarding = 0  # bytes of an oversized body still to skip

    def feed(self, data: bytes) -> Iterator[Event]:
        self._buf += data
        return self._drain()

    @property
    def pending(self) -> bool:
        """True while a message has started but not finished arriving."""
        return self._discarding > 0 or self._body_length is not None or bool(self._buf.strip())

    def stalled(self) -> Iterator[Event]:
        """The peer went quiet in the middle of a message; decide what that message was."""
        if self._discarding:
            yield FramingError(
                f"framing lost: still expecting {self._discarding} bytes of an oversized "
                "message that are not arriving",
                fatal=True,
            )
            return
        if self._body_length is None:
            return
        # Content-Length was larger than the body that was sent: if what we have is one
        # complete JSON value, that was the message.
        text = bytes(self._buf).decode("utf-8", errors="replace")
        try:
            payload, end = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:
            return  # a slow sender: keep waiting
        if text.lstrip()[end:].strip():
            return
        yield FramingError(
            f"Content-Length {self._body_length} exceeds the {len(self._buf)} bytes sent; "
            "using the complete JSON value received"
        )
        self._buf.clear()
        self._body_length = None
        yield Message(payload)

    def _drain(self) -> Iterator[Event]:
        while True:
            if self._discarding:
                skipped = min(self._discarding, len(self._buf))
                del self._buf[:skipped]
                self._discarding -= skipped
                if self._discarding:
                    return
            if self._body_length is None:
                header_event = self._read_header()
                if header_event is None:
                    return
                if isinstance(header_event, FramingError):
                    yield header_event
                    continue
            assert self._body_length is not None
            if len(self._buf) < self._body_length:
                return
            body = bytes(self._buf[: self._body_length])
            del self._buf[: self._body_length]
            self._body_length = None
            yield from self._parse_body(body)

    def _read_header(self) -> FramingError | bool | None:
        """Consumes one header block. True when a body length is known, None if more is needed."""
        match = _CONTENT_LENGTH.search(self._buf)
        if match is None:
            if len(self._buf) > MAX_HEADER_BYTES:
                skipped = len(self._buf) - 64  # keep a tail: a header may be arriving
                del self._buf[:skipped]
                return FramingError(f"skipped {skipped} bytes that carry no message header")
            return None
        junk = self._skip_junk_before(match.start())
        if junk is not None:
            return junk  # the buffer moved under `match`: the caller comes back for the header
        end = _HEADER_END.search(self._buf, match.start())
        if end is None:
            if len(self._buf) - match.start() > MAX_HEADER_BYTES:
                del self._buf[: match.end()]
                return FramingError("message header is not terminated by an empty line")
            return None
        value = match.group(1).strip()
        del self._buf[: end.end()]
        if not value.isdigit():
            return FramingError(
                f"invalid Content-Length {value[:40]!r}", code=INVALID_REQUEST, request_id=None
            )
        length = int(value)
        if length > self.max_body:
            self._discarding = length
            return FramingError(
                f"message of {length} bytes exceeds the limit of {self.max_body} bytes; "
                "it is discarded",
                code=INVALID_REQUEST,
            )
        self._body_length = length
        return True

    def _skip_junk_before(self, header_start: int) -> FramingError | None:
        """Drops what precedes a Content-Length header, unless it is other header lines."""
        line_start = self._buf.rfind(b"\n", 0, header_start) + 1
        preceding = bytes(self._buf[:line_start]).splitlines()
        same_line = bytes(self._buf[line_start:header_start])
        if not same_line.strip() and all(_HEADER_LINE.match(line) for line in preceding if line):
            return None
        cut = header_start if same_line.strip() else line_start
        junk = bytes(self._buf[:cut])
        del self._buf[:cut]
        return FramingError(f"skipped {len(junk)} bytes of unframed data: {junk[:60]!r}")

    def _parse_body(self, body: bytes) -> Iterator[Event]:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            fragment = body.decode("utf-8", errors="replace")
            yield FramingError(
                f"message body is not valid UTF-8: {exc}",
                code=PARSE_ERROR,
                request_id=guess_request_id(fragment),
            )
            return
        try:
            yield Message(json.loads(text))
            return
        except ValueError:
            pass
        stripped = text.lstrip()
        try:
            payload, end = json.JSONDecoder().raw_decode(stripped)
        except ValueError as exc:
            yield FramingError(
                f"invalid JSON ({exc}); Content-Length may be too short",
                code=PARSE_ERROR,
                request_id=guess_request_id(text),
            )
            return
        # Content-Length was too long and the body ran into the next message: give the surplus
        # back to be framed again.
        surplus = stripped[end:].encode("utf-8")
        self._buf[:0] = surplus
        yield FramingError(
            f"Content-Length {len(body)} was {len(surplus)} bytes too long; resynchronised"
        )
        yield Message(payload)
