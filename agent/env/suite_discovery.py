"""Which files hold a Python project's tests, found the way the project itself runs them.

treellama runs Python suites with pytest (one report format, JUnit XML, for every task), and
pytest runs unittest classes too. What differs between projects is where the tests are:
  1. the project's own pytest configuration (`testpaths`, `python_files`): pytest reads it;
  2. else the test command in tox.ini's `[testenv]` or noxfile.py's `session.run(...)`:
     `pytest tests/unit`, `python -m unittest discover -s tests -p "check_*.py"`,
     `python tests.py`;
  3. else unittest modules that pytest's own pattern (`test_*.py`, `*_test.py`) misses:
     `tests.py`, `test.py`, `testsuite.py`, in the root and in `tests/` or `test/`.
A real package kept its suite in a top-level `tests.py`; the agent ran "no tests", tested no
candidate and ended "done, UNVERIFIED" with a change that did not fix the bug.

What is found becomes pytest `-o` overrides (`testpaths`, `python_files`), not paths on the
command line, so that a run of a few chosen tests (`run_suite(tests=...)`) still runs only those.
"""

from __future__ import annotations

import configparser
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

PYTEST_DEFAULT_FILES = ("test_*.py", "*_test.py")
PYTEST_CONFIGS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini")
NOX_RUN = re.compile(r"session\.run\(([^)]*)\)")


@dataclass
class Suite:
    """Where the tests are, beyond pytest's defaults; empty when pytest finds them alone."""

    paths: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # file name patterns

    def pytest_options(self) -> str:
        options = ""
        if self.files:
            patterns = " ".join(dict.fromkeys([*PYTEST_DEFAULT_FILES, *self.files]))
            options += " -o " + shlex.quote(f"python_files={patterns}")
        if self.paths:
            options += " -o " + shlex.quote(f"testpaths={' '.join(self.paths)}")
        return options


def find_suite(root: Path) -> Suite:
    if _pytest_configured(root):
        return Suite()
    suite = Suite()
    for command in [*_tox_commands(root), *_nox_commands(root)]:
        _read_command(command, root, suite)
    suite.files += [name for name in unittest_modules(root) if name not in suite.files]
    return suite


def unittest_modules(root: Path) -> list[str]:
    """The names of test modules that pytest's default pattern misses and unittest discovery
    or the project's habit finds, in the root and in its test folders."""
    found = {
        path.name
        for folder in (root, root / "tests", root / "test")
        for path in folder.glob("test*.py")
        if not path.name.startswith("test_") and path.is_file()
    }
    return sorted(found)


def _pytest_configured(root: Path) -> bool:
    for name in PYTEST_CONFIGS:
        config = root / name
        if config.is_file():
            text = config.read_text(errors="replace")
            if re.search(r"^\s*(testpaths|python_files)\s*=", text, re.M):
                return True
    return False


def _tox_commands(root: Path) -> list[str]:
    path = root / "tox.ini"
    if not path.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(errors="replace"))
    except configparser.Error:
        return []
    if not parser.has_option("testenv", "commands"):
        return []
    lines = parser.get("testenv", "commands").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _nox_commands(root: Path) -> list[str]:
    path = root / "noxfile.py"
    if not path.is_file():
        return []
    commands = []
    for call in NOX_RUN.findall(path.read_text(errors="replace")):
        words = re.findall(r"[\"']([^\"']+)[\"']", call)
        if words:
            commands.append(" ".join(shlex.quote(word) for word in words))
    return commands


def _read_command(command: str, root: Path, suite: Suite) -> None:
    try:
        words = shlex.split(command)
    except ValueError:
        return
    words = [w for w in words if not w.startswith("{")]  # tox substitutions: {posargs}
    if any(Path(w).name in ("pytest", "py.test") for w in words):
        start = next(i for i, w in enumerate(words) if Path(w).name in ("pytest", "py.test"))
        suite.paths += [w for w in words[start + 1 :] if _is_path(w, root)]
    elif "unittest" in words:
        _read_unittest(words[words.index("unittest") + 1 :], root, suite)
    else:
        suite.files += [Path(w).name for w in words if w.endswith(".py") and _is_path(w, root)
                        and Path(w).name.startswith("test")]  # fmt: skip


def _read_unittest(words: list[str], root: Path, suite: Suite) -> None:
    """`unittest discover -s DIR -p PATTERN`, or `unittest tests` (module names)."""
    if words[:1] == ["discover"]:
        options = dict(zip(words[1::2], words[2::2], strict=False))
        start = options.get("-s") or options.get("--start-directory")
        pattern = options.get("-p") or options.get("--pattern") or "test*.py"
        if start and _is_path(start, root):
            suite.paths.append(start)
        suite.files.append(pattern)
        return
    for word in words:
        module = word.replace(".", "/")
        if (root / f"{module}.py").is_file():
            suite.files.append(Path(module).name + ".py")
        elif (root / module).is_dir():
            suite.paths.append(module)


def _is_path(word: str, root: Path) -> bool:
    return not word.startswith("-") and (root / word.split("::")[0]).exists()


def detect_test_command(root: Path) -> str:
    if (root / "Cargo.toml").exists():
        return "cargo test"
    if (root / "go.mod").exists():
        return "go test ./..."
    if (root / "package.json").exists() and not (root / "pyproject.toml").exists():
        return "npm test --silent"
    # Short tracebacks and no warnings: what failed and why, where a model sees it.
    python = shlex.quote(python_for(root))
    command = f"{python} -m pytest -q -p no:cacheprovider -p no:warnings --tb=short"
    # Where the tests are, as the project runs them (agent.env.suite_discovery).
    return command + find_suite(root).pytest_options()


def python_for(root: Path) -> str:
    """The project's own interpreter if it has one; else the one treellama runs on."""
    for candidate in (root / ".venv/bin/python", root / "venv/bin/python"):
        if candidate.exists():
            return str(candidate)
    return sys.executable
