"""The safe edit pipeline on real files: minimal edits, range limits, syntax checks, and the
LSP text edits that reproduce the candidate exactly."""

from __future__ import annotations

import pytest

from agent.editing.edits import EditRejected, apply_edits, minimal_edits, replace_lines, validate
from lsp_server.positions import PositionEncoding
from lsp_server.workspace_edits import text_edits
from tests.support.lsp_text import apply_edits as apply_lsp_edits
from tests.support.lsp_text import units
from tests.support.paths import FIXTURES

PRICING = (FIXTURES / "index_project" / "shop" / "pricing.py").read_text()


def apply_lsp(text: str, edits) -> str:
    """Applies LSP TextEdits (UTF-16 positions) the way an editor does: last first."""
    return apply_lsp_edits(text, edits, "utf-16")


def test_minimal_edits_touch_only_changed_lines_and_round_trip() -> None:
    candidate = PRICING.replace("TAX_RATE = 0.2", "TAX_RATE = 0.25").replace(
        "        return self.prices[sku]", "        return self.prices.get(sku, 0.0)"
    )
    edits = minimal_edits(PRICING, candidate)
    assert [(e.start_line, e.end_line) for e in edits] == [(2, 3), (19, 20)]
    assert apply_edits(PRICING, edits) == candidate
    assert apply_lsp(PRICING, text_edits(PRICING, edits, PositionEncoding.UTF16)) == candidate


@pytest.mark.parametrize(
    "candidate",
    [
        PRICING + "\n\ndef added() -> int:\n    return 1\n",  # appended at the end
        PRICING.split("\n\nclass PriceBook")[0],  # the last lines deleted
        "# header\n" + PRICING,  # inserted at the start
        PRICING.replace("é", "é") + "x = 'héllo 😀'\n",  # non-ASCII: UTF-16 columns
    ],
)
def test_lsp_edits_reproduce_the_candidate_at_the_edges(candidate: str) -> None:
    edits = minimal_edits(PRICING, candidate)
    assert apply_lsp(PRICING, text_edits(PRICING, edits, PositionEncoding.UTF16)) == candidate


@pytest.mark.parametrize("encoding", list(PositionEncoding))
def test_lsp_edits_count_the_negotiated_units_after_multibyte_text(encoding) -> None:
    # The edit ends inside the last line, after é, ß and an astral 😀 (two UTF-16 units).
    original = 'x = 1\nlabel = "größe 😀 café"; y = 2'
    candidate = 'x = 1\nlabel = "größe 😀 café"; y = 3\n'
    edits = text_edits(original, minimal_edits(original, candidate), encoding)
    end = edits[-1].range.end
    assert end.line == 1
    assert end.character == units(original.split("\n")[1], encoding.value)
    assert apply_lsp_edits(original, edits, encoding.value) == candidate


def test_changes_outside_the_allowed_lines_are_rejected() -> None:
    first, last = 5, 7  # apply_discount
    body = "\n".join(PRICING.split("\n")[first : last + 1])
    inside = replace_lines(
        PRICING, first, last, body.replace("round(", "float(round(").replace(", 2)", ", 2))")
    )
    assert validate(PRICING, inside, "python", (first, last))
    dropped = PRICING.replace("def with_tax", "def with_tax_renamed")
    with pytest.raises(EditRejected, match="outside lines 6-8"):
        validate(PRICING, dropped, "python", (first, last))
    with pytest.raises(EditRejected, match="identical"):
        validate(PRICING, PRICING, "python", (first, last))


def test_a_candidate_with_new_syntax_errors_is_rejected_with_the_line() -> None:
    broken = PRICING.replace(
        "def with_tax(price: float) -> float:", "def with_tax(price: float -> float:"
    )
    with pytest.raises(EditRejected, match="syntax error at line 11"):
        validate(PRICING, broken, "python")
    # An error the original already had is not the candidate's fault.
    already = PRICING + "\ndef broken(:\n"
    assert validate(already, already.replace("TAX_RATE = 0.2", "TAX_RATE = 0.3"), "python")


def test_a_replacement_starting_with_a_blank_line_stays_inside_its_range() -> None:
    # A diff would align the new leading blank line with the blank line above the function.
    first, last = 5, 7
    body = "\n".join(PRICING.split("\n")[first : last + 1])
    candidate = replace_lines(
        PRICING, first, last, "\n" + body.replace("round(", "float(round(").replace(", 2)", ", 2))")
    )
    edits = validate(PRICING, candidate, "python", (first, last))
    assert all(first <= e.start_line <= last + 1 for e in edits)
    assert apply_edits(PRICING, edits) == candidate
    removed = replace_lines(PRICING, 10, 11, "")
    assert apply_edits(PRICING, validate(PRICING, removed, "python", (10, 11))) == removed


@pytest.mark.parametrize("encoding", list(PositionEncoding))
def test_an_agent_tasks_workspace_edit_counts_the_clients_units(encoding, tmp_path) -> None:
    """The WorkspaceEdit an applied agent task sends (agent_tasks.edit_for builds it with
    workspace_edit), on a file whose last line has non-ASCII text and no final newline."""
    from agent.editing.edits import FileChange
    from lsp_server.client_features import ClientFeatures
    from lsp_server.workspace_edits import workspace_edit

    original = "def add(a, b):\n    return a - b  # größe 😀 €"
    after = "def add(a, b):\n    return a + b  # größe 😀 €"
    change = FileChange("calc.py", original, after, minimal_edits(original, after))
    client = ClientFeatures(
        position_encoding=encoding, document_changes=True, change_annotations=True
    )
    edit = workspace_edit(tmp_path, [change], {"calc.py": 3}, client, "treellama agent t1")
    (document,) = edit.document_changes
    assert document.text_document.version == 3
    assert document.edits[-1].range.end.character == units(original.split("\n")[1], encoding.value)
    assert apply_lsp_edits(original, document.edits, encoding.value) == after
