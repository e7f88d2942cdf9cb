"""The server under malformed and hostile input: every request gets exactly one answer with the
right JSON-RPC error, the stream recovers where it can, and the process never hangs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from tests.support.raw_client import RawClient

pytestmark = pytest.mark.e2e

DOC = "file:///tmp/robust.py"
OPEN = {
    "jsonrpc": "2.0",
    "method": "textDocument/didOpen",
    "params": {"textDocument": {"uri": DOC, "languageId": "python", "version": 1, "text": "x = "}},
}


@pytest.fixture
def raw():
    client = RawClient()
    yield client
    client.close()


def error_code(message: dict) -> int | None:
    return message.get("error", {}).get("code")


def test_each_bad_request_gets_exactly_one_answer_and_the_stream_recovers(raw: RawClient):
    raw.request(1, "shutdown")  # before initialize
    assert error_code(raw.response(1)) == -32002
    raw.initialize()

    # A lowercase header name is still a header.
    raw.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}, header="content-length")
    assert raw.response(2) == {"jsonrpc": "2.0", "id": 2, "result": None}
    raw.request(3, "workspace/executeCommand", {"command": "treellama.status"})
    assert error_code(raw.response(3)) == -32600  # after shutdown: InvalidRequest


def test_malformed_messages(raw: RawClient):
    raw.initialize()
    raw.send(OPEN)

    raw.send(
        {"jsonrpc": "2.0", "id": 10, "method": "textDocument/inlineCompletion"}, length_delta=-8
    )
    assert error_code(raw.response(10)) == -32700  # truncated body: parse error, with its id

    raw.send({"jsonrpc": "2.0", "id": 11, "method": "workspace/executeCommand",
              "params": {"command": "treellama.status"}}, length_delta=+30)  # fmt: skip
    raw.request(12, "workspace/executeCommand", {"command": "treellama.status"})
    assert "result" in raw.response(11)  # the surplus was given back...
    assert "result" in raw.response(12)  # ...and the next message still framed

    raw.send_bytes(b"Content-Length: 20\r\n\r\n{not json at all!!!}")
    raw.send([{"jsonrpc": "2.0", "id": 13, "method": "shutdown"}])  # a batch
    raw.send({"id": 14, "method": "shutdown"})  # no "jsonrpc"
    raw.request(15, "textDocument/inlineCompletion", {"textDocument": {"uri": DOC},
                                                      "position": {"line": "one"}})  # fmt: skip
    raw.request(16, "textDocument/noSuchMethod", {})
    raw.request(17, "textDocument/inlineCompletion", {
        "textDocument": {"uri": "file:///never/opened.py"},
        "position": {"line": 0, "character": 0}, "context": {"triggerKind": 1}})  # fmt: skip

    assert error_code(raw.response(14)) == -32600
    bad_params = raw.response(15)
    assert error_code(bad_params) == -32602
    assert "position.line" in bad_params["error"]["message"]
    assert error_code(raw.response(16)) == -32601
    unknown = raw.response(17)
    assert error_code(unknown) == -32602 and "didOpen" in unknown["error"]["message"]
    raw.drain()
    null_id_codes = sorted(
        error_code(m) for m in raw.received if "error" in m and m.get("id") is None
    )
    assert null_id_codes == [-32700, -32600]  # the garbage body and the batch

    counts = raw.responses_by_id()
    assert all(counts[msg_id] == 1 for msg_id in (0, 10, 11, 12, 14, 15, 16, 17)), counts
    assert raw.proc.poll() is None  # still alive


def test_too_long_content_length_then_silence_is_still_answered(raw: RawClient):
    raw.initialize()
    raw.send({"jsonrpc": "2.0", "id": 20, "method": "workspace/executeCommand",
              "params": {"command": "treellama.status"}}, length_delta=+100)  # fmt: skip
    assert "result" in raw.response(20, timeout=15)


def test_oversized_message_is_refused_and_the_server_carries_on():
    client = RawClient("--max-message-bytes", "4096")
    try:
        client.initialize()
        huge = dict(OPEN, params={"textDocument": {**OPEN["params"]["textDocument"],
                                                   "text": "y = 1\n" * 5000}})  # fmt: skip
        client.send(huge)
        client.request(30, "workspace/executeCommand", {"command": "treellama.status"})
        assert client.response(30)["result"]["openDocuments"] == 0
        refused = client.response(None)
        assert error_code(refused) == -32600 and "exceeds the limit" in refused["error"]["message"]
    finally:
        client.close()


def test_absurd_length_exits_with_a_clear_log_line_instead_of_hanging():
    client = RawClient()
    try:
        client.initialize()
        client.send_bytes(b"Content-Length: 1099511627776\r\n\r\n")
        client.request(40, "shutdown")
        assert client.proc.wait(timeout=20) == 1
        refused = client.response(None)
        assert "exceeds the limit" in refused["error"]["message"]
        client.drain(0.5)
    finally:
        client.close()
    assert b"cannot be resynchronised" in client.stderr


def test_closed_stdin_without_exit_ends_the_process():
    client = RawClient()
    try:
        client.initialize()
        assert client.proc.stdin is not None
        client.proc.stdin.close()
        assert client.proc.wait(timeout=20) == 1  # no shutdown/exit: exit code 1, per the spec
    finally:
        client.close()


def test_shutdown_then_exit_ends_with_zero():
    client = RawClient()
    try:
        client.initialize()
        client.request(50, "shutdown")
        assert "result" in client.response(50)
        client.send({"jsonrpc": "2.0", "method": "exit"})
        assert client.proc.wait(timeout=20) == 0
    finally:
        client.close()


def test_stray_writes_to_stdout_never_reach_the_protocol_stream():
    program = textwrap.dedent(
        """
        import os
        from lsp_server.transport import take_over_stdout
        fd = take_over_stdout()
        print("stray print")
        os.write(1, b"native write\\n")
        os.write(fd, b"protocol bytes")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=30)
    assert done.stdout == b"protocol bytes"
    assert b"stray print" in done.stderr and b"native write" in done.stderr


def test_tcp_transport_serves_one_client():
    import json
    import socket

    from lsp_server.framing import Framer, Message

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", "serve", "--tcp", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        framer = Framer()

        def call(payload: dict) -> dict:
            body = json.dumps(payload).encode()
            conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            while True:
                for event in framer.feed(conn.recv(65536)):
                    assert isinstance(event, Message)
                    if event.payload.get("id") == payload["id"]:
                        return event.payload

        init = call({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"capabilities": {}}})  # fmt: skip
        assert "inlineCompletionProvider" in init["result"]["capabilities"]
        assert call({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})["result"] is None
        conn.sendall(b'Content-Length: 33\r\n\r\n{"jsonrpc":"2.0","method":"exit"}')
        assert server.wait(timeout=20) == 0
        conn.close()
    finally:
        if server.poll() is None:
            server.kill()


def test_a_huge_document_is_served_without_hanging(raw: RawClient):
    raw.initialize()
    lines = [f"value_{i} = {i}" for i in range(1_000_000)]  # about 20 MB
    huge = "\n".join(lines) + "\ndef last():\n    "
    raw.send(dict(OPEN, params={"textDocument": {**OPEN["params"]["textDocument"], "text": huge}}))
    end = {"line": len(lines) + 1, "character": 4}
    raw.request(60, "textDocument/inlineCompletion", {
        "textDocument": {"uri": DOC}, "position": end, "context": {"triggerKind": 1}})  # fmt: skip
    raw.request(61, "textDocument/documentSymbol", {"textDocument": {"uri": DOC}})
    completion = raw.response(60, timeout=60)
    assert "result" in completion, completion  # the prompt windows keep the work bounded
    assert raw.response(61, timeout=60)["result"] == []  # over the parse cap: no symbols
    raw.request(62, "workspace/executeCommand", {"command": "treellama.status"})
    assert raw.response(62)["result"]["openDocuments"] == 1


def test_the_server_exits_when_its_editor_process_is_gone():
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    client = RawClient()
    try:
        client.initialize(process_id=editor.pid)
        editor.wait(10)
        assert client.proc.wait(timeout=20) == 1  # within a poll or two, not never
    finally:
        client.close()
    assert b"is gone; exiting" in client.stderr
