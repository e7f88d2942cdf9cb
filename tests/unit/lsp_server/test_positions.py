"""The one conversion between LSP positions and str offsets, in each negotiated encoding, on
lines with two-byte (é, ß), three-byte (€) and astral (😀: four UTF-8 bytes, a UTF-16
surrogate pair) characters. The expected values come from encoding the text, not from the
code under test."""

from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_server.client_features import resolve_client_features
from lsp_server.features.completion import ai_completion_item
from lsp_server.positions import (
    LineIndex,
    PositionEncoding,
    column_at,
    column_in_line,
    offset_at,
    position_at,
    text_changes,
)
from tests.support.lsp_text import position, units

LINE = '    label = "größe 😀 €"; return w * h  # done'
TEXT = f"def area(w, h):\n{LINE}\n"
CURSOR = TEXT.index("h  # done")  # just after `w * `
ENCODINGS = list(PositionEncoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_position_after_multibyte_text_is_the_same_place_both_ways(encoding):
    lsp = position(TEXT, CURSOR, encoding.value)
    assert lsp.line == 1
    assert lsp.character == units(LINE[: LINE.index("h  # done")], encoding.value)
    assert offset_at(TEXT, lsp.line, lsp.character, encoding) == CURSOR
    assert position_at(TEXT, CURSOR, encoding) == lsp
    assert column_at(TEXT, 1, lsp.character, encoding) == LINE.index("h  # done")


def test_the_three_encodings_give_different_columns_for_the_same_place():
    columns = {e: position_at(TEXT, CURSOR, e).character for e in ENCODINGS}
    # größe: ö and ß take 2 UTF-8 bytes; € takes 3; 😀 takes 4 bytes or 2 UTF-16 units.
    assert columns[PositionEncoding.UTF32] == LINE.index("h  # done")
    assert columns[PositionEncoding.UTF16] == columns[PositionEncoding.UTF32] + 1
    assert columns[PositionEncoding.UTF8] == columns[PositionEncoding.UTF32] + 2 + 2 + 3


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_character_boundary_round_trips(encoding):
    for index in range(len(TEXT) + 1):
        lsp = position_at(TEXT, index, encoding)
        assert lsp == position(TEXT, index, encoding.value)
        assert offset_at(TEXT, lsp.line, lsp.character, encoding) == index


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_positions_past_the_end_clamp(encoding):
    assert offset_at(TEXT, 1, 10_000, encoding) == TEXT.index("\n", 20)  # the line's end
    assert offset_at(TEXT, 99, 0, encoding) == len(TEXT)
    assert column_at(TEXT, 99, 3, encoding) == 0


def test_a_position_inside_a_character_moves_past_it():
    emoji = LINE.index("😀")
    utf16 = units(LINE[:emoji], "utf-16") + 1  # between the two halves of the surrogate pair
    assert column_in_line(LINE, utf16, PositionEncoding.UTF16) == emoji + 1
    utf8 = units(LINE[:emoji], "utf-8") + 2  # in the middle of its four bytes
    assert column_in_line(LINE, utf8, PositionEncoding.UTF8) == emoji + 1


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_tree_sitter_byte_points_become_positions(encoding):
    source = TEXT.encode("utf-8")
    byte_column = len(LINE[: LINE.index("return")].encode("utf-8"))
    point = LineIndex(source, encoding).position(1, byte_column)
    assert point == position(TEXT, TEXT.index("return"), encoding.value)
    assert LineIndex(source, encoding).position(9, 4) == types.Position(9, 0)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_incremental_changes_apply_in_the_negotiated_units(encoding):
    """Two changes in one didChange, the second relative to the text the first left."""
    at = position(TEXT, CURSOR, encoding.value)
    first = types.TextDocumentContentChangePartial(range=types.Range(at, at), text="😀 ")
    after_first = TEXT[:CURSOR] + "😀 " + TEXT[CURSOR:]
    start = position(after_first, after_first.index("€"), encoding.value)
    end = types.Position(start.line, start.character + units("€", encoding.value))
    second = types.TextDocumentContentChangePartial(range=types.Range(start, end), text="é")
    changes = text_changes(TEXT, [first, second], encoding)
    text = TEXT
    for change in changes:
        text = text[: change.start] + change.text + text[change.end :]
    assert text == after_first.replace("€", "é")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_plain_completion_item_replaces_the_typed_word_in_the_client_units(encoding):
    line_before = '    note = "😀 café"; größe'
    cursor = types.Position(3, units(line_before, encoding.value))
    item = ai_completion_item(line_before, cursor, " = w * h", encoding)
    assert item.text_edit is not None
    start = item.text_edit.range.start
    assert start == types.Position(3, units('    note = "😀 café"; ', encoding.value))
    assert item.text_edit.new_text == "größe = w * h"


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        (["utf-8", "utf-16", "utf-32"], PositionEncoding.UTF8),  # Neovim 0.12's own order
        (["utf-32", "utf-16"], PositionEncoding.UTF32),
        (["utf-16"], PositionEncoding.UTF16),
        (None, PositionEncoding.UTF16),  # LSP's default
    ],
)
def test_the_negotiated_encoding_is_resolved_once_into_the_enum(offered, expected):
    from pygls.capabilities import ServerCapabilitiesBuilder

    caps = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=offered)
    )
    chosen = ServerCapabilitiesBuilder.choose_position_encoding(caps)
    assert resolve_client_features(caps, chosen).position_encoding is expected
    assert PositionEncoding.negotiated(None) is PositionEncoding.UTF16


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_accepted_length_in_the_clients_units_becomes_characters(encoding):
    """treellama/didAcceptCompletion's acceptedLength: Neovim counts bytes, VS Code UTF-16
    units; the statistics count characters."""
    suggestion = 'größe = "😀 €"\nreturn größe'
    taken = 'größe = "😀'  # a partial accept, as the editor measures it
    assert column_in_line(suggestion, units(taken, encoding.value), encoding) == len(taken)
