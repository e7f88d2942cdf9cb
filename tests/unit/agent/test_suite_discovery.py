"""Where a Python project's tests are, found as the project runs them: its pytest
configuration, tox.ini's and noxfile.py's test commands, unittest modules that pytest's own
pattern misses. Checked on small real folders, and with real pytest runs of the overrides."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from agent.env.suite_discovery import Suite, find_suite

FAILING = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_x(self):\n" \
          "        self.assertEqual(1, 2)\n"  # fmt: skip


def collected(root: Path, suite: Suite) -> list[str]:
    """The test ids pytest collects in `root` with the suite's overrides."""
    command = f"{sys.executable} -m pytest -q --collect-only -p no:cacheprovider"
    done = subprocess.run(shlex.split(command + suite.pytest_options()), cwd=root,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_a_top_level_tests_py_is_collected(tmp_path: Path) -> None:
    (tmp_path / "tests.py").write_text(FAILING)
    suite = find_suite(tmp_path)
    assert suite.files == ["tests.py"] and suite.paths == []
    assert collected(tmp_path, suite) == ["tests.py::T::test_x"]


def test_tox_pytest_paths_and_unittest_discover_patterns(tmp_path: Path) -> None:
    (tmp_path / "unit").mkdir()
    (tmp_path / "unit" / "check_math.py").write_text(FAILING)
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "test_slow.py").write_text(FAILING)
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = py3\n\n[testenv]\ncommands =\n"
        "    python -m unittest discover -s unit -p 'check_*.py' {posargs}\n"
    )
    suite = find_suite(tmp_path)
    assert suite.paths == ["unit"] and suite.files == ["check_*.py"]
    assert collected(tmp_path, suite) == ["unit/check_math.py::T::test_x"]  # not slow/
    (tmp_path / "tox.ini").write_text("[testenv]\ncommands = pytest slow {posargs}\n")
    assert find_suite(tmp_path).paths == ["slow"]


def test_nox_sessions_and_a_tests_module_run_by_name(tmp_path: Path) -> None:
    (tmp_path / "testsuite.py").write_text(FAILING)
    (tmp_path / "noxfile.py").write_text(
        "import nox\n\n\n@nox.session\ndef tests(session):\n"
        "    session.run('python', 'testsuite.py')\n"
    )
    suite = find_suite(tmp_path)
    assert suite.files == ["testsuite.py"]
    assert collected(tmp_path, suite) == ["testsuite.py::T::test_x"]


def test_the_projects_own_pytest_configuration_wins(tmp_path: Path) -> None:
    (tmp_path / "tests.py").write_text(FAILING)
    (tmp_path / "tox.ini").write_text("[testenv]\ncommands = pytest tests.py\n\n"
                                      "[pytest]\ntestpaths = nowhere\n")  # fmt: skip
    assert find_suite(tmp_path) == Suite()
    (tmp_path / "tox.ini").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-q'\n")
    assert find_suite(tmp_path).files == ["tests.py"]  # a config that names no files
