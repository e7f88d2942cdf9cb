import json

from lsp_server.framing import (
    INVALID_REQUEST,
    PARSE_ERROR,
    Framer,
    FramingError,
    Message,
    guess_request_id,
)


def frame(payload: object, *, length_delta: int = 0, header: str = "Content-Length") -> bytes:
    body = json.dumps(payload).encode()
    return f"{header}: {len(body) + length_delta}\r\n\r\n".encode() + body


def messages(events):
    return [event.payload for event in events if isinstance(event, Message)]


def errors(events):
    return [event for event in events if isinstance(event, FramingError)]


REQ = {"jsonrpc": "2.0", "id": 7, "method": "shutdown"}
NOTE = {"jsonrpc": "2.0", "method": "initialized", "params": {}}


def test_frames_back_to_back_messages_split_anywhere():
    data = frame(REQ) + frame(NOTE)
    framer = Framer()
    got = []
    for i in range(len(data)):
        got += list(framer.feed(data[i : i + 1]))
    assert messages(got) == [REQ, NOTE]
    assert not errors(got)
    assert not framer.pending


def test_header_name_is_case_insensitive_and_other_headers_are_allowed():
    body = json.dumps(REQ).encode()
    data = (
        b"content-type: application/vscode-jsonrpc; charset=utf-8\r\n"
        + f"content-length:{len(body)}\r\n\r\n".encode()
        + body
    )
    assert messages(Framer().feed(data)) == [REQ]


def test_too_short_length_answers_once_with_the_id_and_resynchronises():
    events = list(Framer().feed(frame(REQ, length_delta=-5) + frame(NOTE)))
    assert messages(events) == [NOTE]
    parse_errors = [e for e in errors(events) if e.code == PARSE_ERROR]
    assert len(parse_errors) == 1
    assert parse_errors[0].request_id == 7


def test_too_long_length_gives_back_the_next_message():
    events = list(Framer().feed(frame(REQ, length_delta=20) + frame(NOTE) + frame(REQ)))
    assert messages(events) == [REQ, NOTE, REQ]


def test_too_long_length_then_silence_is_resolved_when_stalled():
    framer = Framer()
    assert messages(framer.feed(frame(REQ, length_delta=50))) == []
    assert framer.pending
    assert messages(framer.stalled()) == [REQ]
    assert not framer.pending


def test_slow_sender_is_not_mistaken_for_a_stall():
    framer = Framer()
    data = frame(REQ)
    list(framer.feed(data[:-3]))
    assert messages(framer.stalled()) == []
    assert messages(framer.feed(data[-3:])) == [REQ]


def test_oversized_body_is_refused_discarded_and_the_stream_continues():
    framer = Framer(max_body=100)
    big = {"jsonrpc": "2.0", "method": "x", "params": {"text": "a" * 500}}
    events = list(framer.feed(frame(big) + frame(REQ)))
    refused = errors(events)
    assert refused and refused[0].code == INVALID_REQUEST and not refused[0].fatal
    assert messages(events) == [REQ]


def test_absurd_length_that_never_arrives_is_fatal_not_a_hang():
    framer = Framer(max_body=1000)
    events = list(framer.feed(b"Content-Length: 1099511627776\r\n\r\n" + frame(REQ)))
    assert errors(events)[0].code == INVALID_REQUEST
    fatal = errors(framer.stalled())
    assert fatal and fatal[0].fatal


def test_junk_before_a_header_is_skipped():
    events = list(Framer().feed(b"garbage garbage\r\n" + frame(REQ)))
    assert messages(events) == [REQ]
    assert errors(events) and errors(events)[0].code is None


def test_invalid_utf8_is_a_parse_error():
    body = b'{"jsonrpc":"2.0","id":3,"method":"x","params":"\xff"}'
    events = list(Framer().feed(b"Content-Length: %d\r\n\r\n" % len(body) + body))
    assert errors(events)[0].code == PARSE_ERROR
    assert errors(events)[0].request_id == 3


def test_non_numeric_length_is_rejected_and_the_stream_recovers():
    events = list(Framer().feed(b"Content-Length: abc\r\n\r\n" + frame(REQ)))
    assert errors(events)[0].code == INVALID_REQUEST
    assert messages(events) == [REQ]


def test_guess_request_id_only_for_requests():
    assert guess_request_id('{"jsonrpc":"2.0","id":"a-1","method":"x","par') == "a-1"
    assert guess_request_id('{"jsonrpc":"2.0","id":4,"result":{') is None
