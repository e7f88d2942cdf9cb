"""The refactoring service's dispatch, without a front end: what a place offers, and running
an action with a scripted model (its words are given)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.model import ScriptedChatModel
from agent.refactor_actions import ActionRequest, UnknownAction, offers, run_action

CODE = 'def area(w, h):\n    """The area."""\n    return w * h\n\n\nclass Box:\n    pass\n'


def test_offers_follow_the_syntax_tree_and_the_diagnostics() -> None:
    inside = offers(CODE, "python", 2, [(2, "undefined name 'hh'\nmore detail")])
    assert [(o.title, o.kind, o.action) for o in inside] == [
        ("Refresh docstring of area", "rewrite", "docstring"),
        ("Generate tests for area", "extract", "tests"),
        ("Fix: undefined name 'hh'", "quickfix", "fix"),
    ]
    assert inside[2].message == "undefined name 'hh'" and inside[2].diagnostic == 0
    on_class = offers(CODE, "python", 5, [])
    assert [o.title for o in on_class] == ["Add docstring to Box"]  # no tests for a class
    assert offers(CODE, "python", 3, []) == []  # between definitions: nothing


def test_run_action_dispatches_and_refuses_the_unknown(tmp_path: Path) -> None:
    model = ScriptedChatModel(["def area(w, h):\n    return h * w\n"])
    request = ActionRequest("rewrite", "geo.py", CODE, "python", 0, 2, instruction="swap")
    result = run_action(model, request, tmp_path)
    assert result.title == "Rewrite: swap" and "return h * w" in result.changes[0].new_text
    with pytest.raises(UnknownAction):
        run_action(model, ActionRequest("paint", "geo.py", CODE, "python", 0), tmp_path)
