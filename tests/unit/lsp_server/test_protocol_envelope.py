import pytest

from lsp_server.protocol import envelope_problem


@pytest.mark.parametrize(
    ("payload", "answer_id"),
    [
        ([{"jsonrpc": "2.0", "id": 1, "method": "x"}], None),
        (42, None),
        ({"id": 5, "method": "x"}, 5),
        ({"jsonrpc": "1.0", "id": "a", "method": "x"}, "a"),
        ({"jsonrpc": "2.0", "id": True, "method": "x"}, None),
        ({"jsonrpc": "2.0", "id": 9, "method": 3}, 9),
        ({"jsonrpc": "2.0", "id": 9, "method": "x", "params": "text"}, 9),
        ({"jsonrpc": "2.0"}, None),
    ],
)
def test_invalid_envelopes_are_reported_with_the_id_to_answer(payload, answer_id):
    problem = envelope_problem(payload)
    assert problem is not None
    assert problem[0] == answer_id


@pytest.mark.parametrize(
    "payload",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
        {"jsonrpc": "2.0", "method": "initialized"},
        {"jsonrpc": "2.0", "id": "x", "result": None},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": 1, "message": "m"}},
    ],
)
def test_valid_envelopes_pass(payload):
    assert envelope_problem(payload) is None
