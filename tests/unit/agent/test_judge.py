"""Choosing among judged candidates (agent.judge), on reports made by hand."""

from __future__ import annotations

from agent.env import test_report
from agent.judge import Judged, best
from agent.localize import localize

TARGET = "test_words.py::test_humanize"
BEFORE = {TARGET: "AssertionError: assert 'Employee' == 'Employee id'"}


def _judged(message: str, diff_lines: int, passed: int = 4) -> Judged:
    failure = test_report.TestFailure(TARGET, "test_words.py", "test_humanize", message, message)
    report = test_report.TestReport("pytest", "pytest", 1, passed, (failure,))
    return Judged("words.py", "", f"# {message}", report, diff_lines=diff_lines,
                  targets=frozenset(BEFORE), before=BEFORE)  # fmt: skip


def test_a_candidate_that_changed_how_the_target_fails_is_shown_to_the_repair_round():
    same = _judged(BEFORE[TARGET], diff_lines=2)
    moved = _judged("AssertionError: assert 'Employee' == 'Employe'", diff_lines=4)
    assert (same.moved, moved.moved) == (0, 1)
    assert best([same, moved]) is moved
    # Passing more tests still comes first.
    assert best([_judged(BEFORE[TARGET], diff_lines=2, passed=5), moved]) is not moved


def test_a_changed_failure_that_broke_another_test_did_not_reach_the_target_alone():
    moved = _judged("AssertionError: assert 'Employee' == 'Employe'", diff_lines=4)
    assert moved.reached
    other = test_report.TestFailure("test_words.py::test_titleize", "test_words.py",
                                    "test_titleize", "AssertionError", "")  # fmt: skip
    assert moved.report is not None
    moved.report = test_report.TestReport("pytest", "pytest", 1, 3, (*moved.report.failures, other))
    assert moved.moved == 1 and not moved.reached
    assert not _judged(BEFORE[TARGET], diff_lines=2).reached


def test_object_addresses_do_not_count_as_a_changed_failure():
    before = {TARGET: "AssertionError: <Cache object at 0x7f3a2b> is not None"}
    failure = test_report.TestFailure(TARGET, "test_words.py", "test_humanize",
                          "AssertionError: <Cache object at 0x7f99c0> is not None", "")  # fmt: skip
    report = test_report.TestReport("pytest", "pytest", 1, 4, (failure,))
    judged = Judged("words.py", "", "", report, targets=frozenset(before), before=before)
    assert judged.moved == 0


def test_a_function_named_in_a_mid_sized_file_is_rewritten_alone(tmp_path):
    """A 60-line module (cachetools' keys.py): the whole file led the 1.5B to rewrite the
    other functions' docstrings; the named function is the region."""
    repo = tmp_path / "p"
    repo.mkdir()
    helpers = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(12))
    (repo / "keys.py").write_text(helpers + "def typedkey(*args):\n    return args\n")
    first = localize(repo, "typedkey(1) and typedkey(1.0) are equal keys")[0]
    assert (first.kind, first.name) == ("function", "typedkey")
    (repo / "small.py").write_text("def typed(*args):\n    return args\n")
    first = localize(repo, "typed(1) and typed(1.0) are equal")[0]
    assert first.kind == "file" and first.path == "small.py"
