"""Which lines of one file the failing tests run: the rows worth a single-token edit.

The suspect edits (agent.suspect_edits) go first to the rows that tracebacks reach and that
candidates rewrote. An assertion failure reaches no row of the library, and a small model
rewrites rows all over the function: in boltons' `chunk_ranges` the candidates rewrote the
argument checks and the `yield`, never the `range(...)` step that was wrong, while the
budget went to rows of an `if align:` branch the failing test never runs. Line coverage of
the failing tests alone (coverage.py's "executed lines", measured here with `sys.settrace`
on one file, so every other frame costs one call) rules those rows out and brings in the
rows that ran.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from agent.env.sandbox import Sandbox
from agent.plugin_run import run_plugin

PLUGIN_MODULE = "_treellama_lines"
LINES_FILE = ".treellama-lines.json"
TARGET_VARIABLE = "TREELLAMA_TRACE_FILE"

# Installed when pytest loads the plugin, before the tests import the project: a module's
# own top-level rows (its `def` lines, a class's attributes) count as run, as they do. Rows
# are kept for the tests that fail in this run: the report's test ids name a unittest
# method's file and name, not its pytest node id, so the run is of files, not ids.
PLUGIN = '''\
"""treellama: which lines of one file the failing tests run (removed after the run)."""
import json, os, sys, threading

import pytest

_ROOT = os.getcwd() + os.sep
_TARGET = os.path.realpath(os.path.join(_ROOT, os.environ.get("@VARIABLE@", "")))
_names = {}
_imported = set()
_current = [_imported]
_failing = set()
_failed = set()


def _local(frame, event, arg):
    if event == "line":
        _current[0].add(frame.f_lineno)
    return _local


def _global(frame, event, arg):
    name = frame.f_code.co_filename
    hit = _names.get(name)
    if hit is None:
        hit = _names[name] = os.path.realpath(name) == _TARGET
    if hit:
        _current[0].add(frame.f_lineno)
        return _local
    return None


sys.settrace(_global)
threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    _current[0] = set()
    try:
        yield
    finally:
        if item.nodeid in _failed:
            _failing.update(_current[0])
        _current[0] = _imported


def pytest_runtest_logreport(report):
    if report.outcome == "failed":
        _failed.add(report.nodeid)


def pytest_unconfigure(config):
    sys.settrace(None)
    if _failing:
        with open(_ROOT + "@FILE@", "w") as out:
            json.dump(sorted(_imported | _failing), out)
'''.replace("@VARIABLE@", TARGET_VARIABLE).replace("@FILE@", LINES_FILE)


def executed_rows(
    sandbox: Sandbox,
    root: Path,
    command: str,
    test_files: list[str],
    path: str,
    *,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    confined: bool = True,
) -> frozenset[int] | None:
    """The 0-based rows of `path` (relative to `root`) that the tests of `test_files` (all
    of them when empty) run where they fail, with the module's import; None when that cannot
    be measured (not pytest, no failing test ran a row of it)."""
    text = run_plugin(
        sandbox, root, command, (PLUGIN_MODULE, PLUGIN), LINES_FILE, sorted(set(test_files)),
        environment={TARGET_VARIABLE: path}, cancel=cancel, timeout_s=timeout_s,
        confined=confined,
    )  # fmt: skip
    try:
        lines = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    if not isinstance(lines, list) or not lines:
        return None
    return frozenset(int(line) - 1 for line in lines if isinstance(line, int) and line > 0)
