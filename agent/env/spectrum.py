"""Spectrum-based fault localization: which functions the failing tests run, against the
passing tests beside them (Ochiai, as in Abreu et al. and AutoCodeRover's SBFL stage).

A traceback names where a failure surfaced, which is often a shared helper (a base class's
`__getitem__` that raises KeyError) rather than the wrong line (a subclass's eviction order).
An assertion failure names no library frame at all. What the failing tests *ran* that the
passing ones mostly did not is the better evidence. A small pytest plugin, written into the
task's copy for the run and removed after, records the code objects each test's call phase
enters (`sys.setprofile`: function entries only, far cheaper than line tracing).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from agent.env.sandbox import Sandbox
from agent.plugin_run import run_plugin

PLUGIN_MODULE = "_treellama_spectrum"
SPECTRUM_FILE = ".treellama-spectrum.json"
MAX_TESTS = 2000  # a per-test record beyond this many tests is not kept

PLUGIN = '''\
"""treellama: which functions each test runs (removed after the run)."""
import json, os, sys

import pytest

_ROOT = os.getcwd() + os.sep
_SKIP = tuple(p + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
_runs = {}
_outcomes = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    seen = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code)

    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(None)
        if len(_runs) < @MAX_TESTS@:
            _runs[item.nodeid] = seen


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome == "failed":
        _outcomes.setdefault(report.nodeid, report.outcome)
        if report.outcome == "failed":
            _outcomes[report.nodeid] = "failed"


def pytest_sessionfinish(session):
    tests = {}
    for nodeid, codes in _runs.items():
        entered = set()
        for code in codes:
            name = code.co_filename
            if name.startswith(_ROOT) and not name.startswith(_SKIP) and name != __file__:
                entered.add((name[len(_ROOT):], code.co_firstlineno, code.co_name))
        tests[nodeid] = {"outcome": _outcomes.get(nodeid, "passed"), "entered": sorted(entered)}
    with open(_ROOT + "@FILE@", "w") as out:
        json.dump(tests, out)
'''.replace("@MAX_TESTS@", str(MAX_TESTS)).replace("@FILE@", SPECTRUM_FILE)


@dataclass(frozen=True)
class CodeUnit:
    """A function's code object, as Python names it."""

    path: str
    line: int  # co_firstlineno: 1-based; a decorated function's first decorator
    name: str


@dataclass(frozen=True)
class Spectrum:
    failed: dict[CodeUnit, int]  # failing tests that entered it
    passed: dict[CodeUnit, int]
    total_failed: int

    def ochiai(self, units: list[CodeUnit]) -> float:
        """The suspiciousness of a place made of these code units (a function and the
        lambdas and comprehensions inside it): the most suspicious one's."""
        best = 0.0
        for unit in units:
            failed = self.failed.get(unit, 0)
            if failed:
                passed = self.passed.get(unit, 0)
                best = max(best, failed / math.sqrt(self.total_failed * (failed + passed)))
        return best

    @property
    def units(self) -> set[CodeUnit]:
        return set(self.failed) | set(self.passed)


def parse_spectrum(text: str) -> Spectrum | None:
    try:
        tests = json.loads(text)
    except json.JSONDecodeError:
        return None
    failed: dict[CodeUnit, int] = {}
    passed: dict[CodeUnit, int] = {}
    total_failed = 0
    for record in tests.values() if isinstance(tests, dict) else ():
        is_failure = record.get("outcome") == "failed"
        total_failed += is_failure
        counts = failed if is_failure else passed
        for path, line, name in record.get("entered", ()):
            unit = CodeUnit(str(path).replace("\\", "/"), int(line), str(name))
            counts[unit] = counts.get(unit, 0) + 1
    return Spectrum(failed, passed, total_failed) if total_failed else None


def measure(
    sandbox: Sandbox,
    root: Path,
    command: str,
    test_files: list[str],
    *,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    confined: bool = True,
) -> Spectrum | None:
    """Runs the test files that hold failures with the plugin (a pytest command only), and
    reads which functions each test entered. None when it cannot be measured: the caller
    localizes without it."""
    text = run_plugin(
        sandbox, root, command, (PLUGIN_MODULE, PLUGIN), SPECTRUM_FILE, sorted(set(test_files)),
        cancel=cancel, timeout_s=timeout_s, confined=confined,
    )  # fmt: skip
    return parse_spectrum(text) if text else None
