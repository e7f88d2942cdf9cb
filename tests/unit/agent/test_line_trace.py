"""Line coverage of the failing tests: the real pytest plugin in the real sandbox on a tiny
project (no model)."""

from __future__ import annotations

from pathlib import Path

from agent.env.line_trace import executed_rows
from agent.env.sandbox import Sandbox, probe
from agent.env.test_report import run_suite
from agent.settings import AgentSettings
from tests.support.projects import TEST_COMMAND

LIBRARY = (
    "LIMIT = 3\n"  # row 0: run on import
    "\n\n"
    "def chunks(items, size, align=False):\n"  # row 3
    "    if align:\n"  # row 4
    "        size = size + 1\n"  # row 5: never run by the test
    "    for start in range(0, len(items), size + 1):\n"  # row 6: the bug
    "        yield items[start:start + size]\n"  # row 7
    "\n\n"
    "def unused(x):\n"  # row 10
    "    return x * 2\n"  # row 11: never run
)
TESTS = (
    "import unittest\n\nfrom lib import chunks, unused\n\n\n"
    "class ChunksTest(unittest.TestCase):\n"
    "    def test_chunks(self):\n"
    "        self.assertEqual(list(chunks([1, 2, 3, 4], 2)), [[1, 2], [3, 4]])\n\n\n"
    "def test_aligned_runs_the_branch():\n    assert list(chunks([1, 2], 1, align=True))\n\n\n"
    "def test_unused():\n    assert unused(2) == 4\n"
)


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lib.py").write_text(LIBRARY)
    (root / "test_lib.py").write_text(TESTS)
    return root


def test_the_failing_tests_rows_of_one_file_and_nothing_left_behind(tmp_path):
    repo = project(tmp_path / "p")
    sandbox = Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe())
    report = run_suite(sandbox, repo, TEST_COMMAND)
    # A unittest method's report id is its file and name, not the node id pytest selects by:
    # the trace runs files (or the whole suite) and keeps the tests that fail there.
    assert report.failed_ids == {"test_lib.py::test_chunks"}
    before = sorted(p.name for p in repo.rglob("*") if "__pycache__" not in p.parts)
    for files in (["test_lib.py"], []):
        rows = executed_rows(sandbox, repo, TEST_COMMAND, files, "lib.py")
        assert rows is not None
        # The import runs the module's own rows; the failing test runs the loop, not the
        # branch, which only a passing test runs.
        assert {0, 3, 4, 6, 7} <= rows
        assert 5 not in rows and 11 not in rows
    after = sorted(p.name for p in repo.rglob("*") if "__pycache__" not in p.parts)
    assert after == before
    assert not list(repo.rglob("_treellama_lines*"))


def test_rows_that_cannot_be_measured_are_none(tmp_path):
    repo = project(tmp_path / "p")
    sandbox = Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe())
    # A file no failing test runs: its import alone says nothing.
    (repo / "other.py").write_text("def f():\n    return 1\n")
    (repo / "test_other.py").write_text("from other import f\n\n\ndef test_f():\n"
                                        "    assert f() == 1\n")  # fmt: skip
    assert executed_rows(sandbox, repo, TEST_COMMAND, [], "other.py") is None
    # No test fails in the files run.
    assert executed_rows(sandbox, repo, TEST_COMMAND, ["test_other.py"], "lib.py") is None
