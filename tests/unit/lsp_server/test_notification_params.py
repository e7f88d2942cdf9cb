from types import SimpleNamespace

from lsprotocol import types

from lsp_server.notification_params import field, rest_position


def test_a_rest_position_is_read_from_a_dict_or_an_object_and_malformed_ones_are_none():
    where = {"uri": "file:///a.py", "position": {"line": 3, "character": 4}}
    assert rest_position(where) == ("file:///a.py", types.Position(line=3, character=4))
    as_object = SimpleNamespace(uri="file:///a.py", position=SimpleNamespace(line=0, character=0))
    assert rest_position(as_object) == ("file:///a.py", types.Position(line=0, character=0))
    for bad in (None, {}, {"uri": 7}, {"uri": "file:///a.py"},
                {"uri": "file:///a.py", "position": {"line": -1, "character": 0}},
                {"uri": "file:///a.py", "position": {"line": "3", "character": 0}}):  # fmt: skip
        assert rest_position(bad) is None
    assert field({"text": "x"}, "text") == "x" and field(None, "text") is None
