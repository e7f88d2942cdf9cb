"""The "rewrite" and "fix" refactorings checked by the project's own tests, run for real in the
sandbox, with a scripted model (its words are given; what is tested is how a red change is
resampled, labelled, or offered as green)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.env.sandbox import probe
from agent.model import ScriptedChatModel
from agent.refactor import fix_diagnostic, rewrite
from agent.settings import AgentSettings
from agent.verify import SuiteVerifier

MATH = "def double(x):\n    return x * 2\n\n\ndef half(x):\n    return x / 2\n"
TESTS = "from mathx import double, half\n\n\ndef test_double():\n    assert double(4) == 8\n\n\n" \
    "def test_half():\n    assert half(4) == 2\n"  # fmt: skip
GOOD = "def double(x):\n    return x + x\n"
BAD = "def double(x):\n    return x ** 2 + 1\n"


def _project(root: Path, tests: bool = True) -> Path:
    root.mkdir()
    (root / "mathx.py").write_text(MATH)
    if tests:
        (root / "test_mathx.py").write_text(TESTS)
    return root


def _verifier(root: Path, cap_s: float = 60) -> SuiteVerifier:
    report = probe("auto")
    if report.layer == "none":
        pytest.skip("no sandbox layer works here")
    return SuiteVerifier(root, AgentSettings(), report, cap_s, root.parent)  # runner detected


def test_a_green_rewrite_is_offered_as_it_is(tmp_path: Path) -> None:
    verifier = _verifier(_project(tmp_path / "p"))
    model = ScriptedChatModel([GOOD])
    result = rewrite(model, "mathx.py", MATH, "python", 0, 1, "simpler", verify=verifier.check)
    assert result.tests == "pass" and "2 passed" in result.tests_detail
    assert result.title == "Rewrite: simpler" and len(model.calls) == 1
    assert result.changes[0].new_text.startswith(GOOD)


def test_a_red_rewrite_is_resampled_with_the_failure(tmp_path: Path) -> None:
    verifier = _verifier(_project(tmp_path / "p"))
    model = ScriptedChatModel([BAD, GOOD])
    result = rewrite(model, "mathx.py", MATH, "python", 0, 1, "simpler", verify=verifier.check)
    assert result.tests == "pass" and result.changes[0].new_text.startswith(GOOD)
    feedback = model.calls[1][0][-1]["content"]
    assert "tests fail" in feedback and "test_double" in feedback
    assert "x ** 2 + 1" in model.calls[1][0][-2]["content"]  # the red attempt, shown back


def test_a_change_still_red_after_the_resample_is_labelled(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    verifier = _verifier(root)
    model = ScriptedChatModel([BAD, BAD])
    result = rewrite(model, "mathx.py", MATH, "python", 0, 1, "simpler", verify=verifier.check)
    assert result.tests == "fail" and result.title.endswith("(tests fail)")
    assert "test_mathx.py::test_double" in result.tests_detail
    assert (root / "mathx.py").read_text() == MATH  # checked in a copy, never in the project


def test_a_fix_that_leaves_the_tests_red_is_labelled(tmp_path: Path) -> None:
    broken = MATH.replace("return x / 2", "return y / 2")
    root = _project(tmp_path / "p")
    (root / "mathx.py").write_text(broken)
    verifier = _verifier(root)
    unfixed = "def half(x):\n    return (y or x) / 3\n"
    model = ScriptedChatModel([unfixed, "def half(x):\n    return x / 2\n"])
    result = fix_diagnostic(
        model, "mathx.py", broken, "python", 5, "undefined name 'y'", verify=verifier.check
    )
    assert result.tests == "pass" and "return x / 2" in result.changes[0].new_text
    assert "still fail as before" in model.calls[1][0][-1]["content"]


def test_no_tests_or_no_time_leaves_the_change_unchecked(tmp_path: Path) -> None:
    plain = _verifier(_project(tmp_path / "plain", tests=False))
    result = rewrite(ScriptedChatModel([GOOD]), "mathx.py", MATH, "python", 0, 1, "simpler",
                     verify=plain.check)  # fmt: skip
    assert (result.tests, result.tests_detail) == ("unchecked", "no tests found")
    assert result.title == "Rewrite: simpler"
    off = _verifier(_project(tmp_path / "off"), cap_s=0)
    assert off.check({}, {}).status == "unchecked"
