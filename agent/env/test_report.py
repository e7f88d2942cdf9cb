"""Running a project's tests in the sandbox and turning the result into data.

pytest (which also runs unittest suites) writes a JUnit XML report, read here for each
failure's test id, message and traceback frames; `go test -json` is read event by event; the
TAP that node's own test runner prints when its output is not a terminal (`node --test`, the
usual `npm test` script) is read test by test. Other runners (jest, cargo) are judged by their
exit code, with frames scraped from the text, since they have no report format we can ask for
without the project's own configuration.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.env.sandbox import Sandbox
from agent.loop.tools import detect_test_command

REPORT_FILE = ".treellama-test-report.xml"
OUTPUT_CHARS = 4000
# `path:line: in function` (pytest --tb=short) and `File "path", line N, in function`.
SHORT_FRAME = re.compile(r"^([^\s:][^:\n]*\.\w+):(\d+): in (\S+)", re.M)
LONG_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
CRASH_LINE = re.compile(r"^([^\s:][^:\n]*\.\w+):(\d+): (\w+(?:Error|Exception))", re.M)
# A JavaScript stack line, innermost first: `at add (/p/lib/calc.js:3:9)`, or in node's TAP
# `add (file:///p/lib/calc.js:3:9)`; node's own frames (`node:internal/...`) have no extension.
JS_FRAME = re.compile(
    r"^[ \t]*(?:at )?(?:async )?(?:([^\s(][^(\n]*?) \()?(?:file://)?"
    r"([^\s():]+\.[cm]?[jt]sx?):(\d+):\d+\)?[ \t]*$",
    re.M,
)
TAP_RESULT = re.compile(r"^( *)(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$", re.M)
TAP_SUBTEST = re.compile(r"^( *)# Subtest: (.*)$", re.M)
TAP_LOCATION = re.compile(r"^\s*location: '(.+):(\d+):\d+'$", re.M)


@dataclass(frozen=True)
class Frame:
    path: str
    line: int  # 1-based, as tracebacks print it
    function: str


@dataclass(frozen=True)
class TestFailure:
    test_id: str  # path::name, or the runner's own id
    file: str
    name: str
    message: str
    text: str
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True)
class TestReport:
    runner: str  # pytest, go, npm, cargo, none
    command: str
    exit_code: int
    passed: int = 0
    failures: tuple[TestFailure, ...] = ()
    output: str = ""
    timed_out: bool = False
    collected: bool = True  # False: no test was found, or the suite could not be imported
    passed_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def ran(self) -> bool:
        return self.runner != "none" and self.collected

    @property
    def green(self) -> bool:
        return self.ran and not self.timed_out and self.exit_code == 0 and not self.failures

    @property
    def failed_ids(self) -> frozenset[str]:
        return frozenset(f.test_id for f in self.failures)

    def summary(self) -> str:
        if self.timed_out:
            return "the tests timed out"
        if not self.collected:
            return "no tests ran (none found, or the suite does not import)"
        return f"{self.passed} passed, {len(self.failures)} failed"


def runner_of(command: str) -> str:
    for runner, marker in (("pytest", "pytest"), ("go", "go test"), ("cargo", "cargo test")):
        if marker in command:
            return runner
    return "npm" if "npm" in command else "other"


def frames_in(text: str) -> tuple[Frame, ...]:
    """The traceback frames in the text, outermost first (the crash last)."""
    found = [Frame(p, int(n), f) for p, n, f in SHORT_FRAME.findall(text)]
    found += [Frame(p, int(n), f) for p, n, f in LONG_FRAME.findall(text)]
    found += [Frame(p, int(n), "") for p, n, _ in CRASH_LINE.findall(text)]
    found += reversed([Frame(p, int(n), f.split(".")[-1] if f else "")
                       for f, p, n in JS_FRAME.findall(text)])  # fmt: skip
    return tuple(found)


def _cap(text: str) -> str:
    if len(text) <= OUTPUT_CHARS:
        return text
    half = OUTPUT_CHARS // 2
    return f"{text[:half]}\n[...]\n{text[-half:]}"


def parse_junit(xml_text: str) -> tuple[int, list[TestFailure], set[str]]:
    """(passed, failures, passed ids) from a pytest JUnit report (xunit1: with file and line)."""
    root = ElementTree.fromstring(xml_text)
    passed, failures, passed_ids = 0, [], set()
    for case in root.iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        name = case.get("name", "")
        test_id = f"{file}::{name}"
        problem = next((c for c in case if c.tag in ("failure", "error")), None)
        if problem is None:
            if not any(c.tag == "skipped" for c in case):
                passed += 1
                passed_ids.add(test_id)
            continue
        text = (problem.text or "").strip()
        message = problem.get("message", "")[:500]
        failures.append(TestFailure(test_id, file, name, message, text, frames_in(text)))
    return passed, failures, passed_ids


def parse_go_json(output: str) -> tuple[int, list[TestFailure], set[str]]:
    passed, failures, passed_ids = 0, list[TestFailure](), set[str]()
    lines: dict[str, list[str]] = {}
    for raw in output.splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        test = event.get("Test")
        if not test:
            continue
        key = f"{event.get('Package', '')}::{test}"
        if event.get("Action") == "output":
            lines.setdefault(key, []).append(event.get("Output", ""))
        elif event.get("Action") == "pass":
            passed += 1
            passed_ids.add(key)
        elif event.get("Action") == "fail":
            text = "".join(lines.get(key, []))
            failures.append(TestFailure(key, "", test, text.strip()[:500], text, frames_in(text)))
    return passed, failures, passed_ids


def parse_tap(output: str) -> tuple[int, list[TestFailure], set[str]]:
    """(passed, failures, passed ids) from node's TAP: each test's result line and the YAML
    block after it (its location, error and stack). A test's id is its name under its suites'
    names (`calc > adds`): only a failure's block says where it is. A suite (`describe`) prints
    its subtests, indented, before its own result: that result closes it and is not a test."""
    passed, failures, passed_ids = 0, list[TestFailure](), set[str]()
    marks = sorted([*TAP_SUBTEST.finditer(output), *TAP_RESULT.finditer(output)],
                   key=lambda m: m.start())  # fmt: skip
    suites: dict[int, str] = {}
    depth = -1
    for index, mark in enumerate(marks):
        indent = len(mark.group(1))
        if mark.re is TAP_SUBTEST:
            suites = {d: n for d, n in suites.items() if d < indent}
            suites[indent] = mark.group(2).strip()
            continue
        closes_suite, depth = indent < depth, indent
        if closes_suite or mark.group(4):  # a suite's own result; a skipped or to-do test
            continue
        path = [n for d, n in sorted(suites.items()) if d < indent] + [mark.group(3).strip()]
        test_id = " > ".join(path)
        if mark.group(2) == "ok":
            passed += 1
            passed_ids.add(test_id)
            continue
        end = marks[index + 1].start() if index + 1 < len(marks) else len(output)
        block = textwrap.dedent(output[mark.end() : end])
        where = TAP_LOCATION.search(block)
        message = _tap_error(block)[:500] or "the test failed"
        failures.append(TestFailure(test_id, where.group(1) if where else "", path[-1], message,
                                    block.strip(), frames_in(block)))  # fmt: skip
    return passed, failures, passed_ids


def _within(failure: TestFailure, root: Path) -> TestFailure:
    """The failure with the project's absolute paths (node prints them) made relative to it;
    the sandbox binds the project at its own path."""
    prefixes = tuple(dict.fromkeys(f"{p.as_posix().rstrip('/')}/" for p in (root, root.resolve())))

    def relative(path: str) -> str:
        path = path.removeprefix("file://")
        for prefix in prefixes:
            if path.startswith(prefix):
                return path[len(prefix) :]
        return path

    frames = tuple(Frame(relative(f.path), f.line, f.function) for f in failure.frames)
    return replace(failure, file=relative(failure.file), frames=frames)


def _tap_error(block: str) -> str:
    """The `error:` of a TAP result's YAML block, on one line (it may be a block scalar)."""
    lines = block.split("\n")
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith("error: "):
            continue
        value = stripped[len("error: ") :].strip()
        if value not in ("|", "|-", ">", ">-"):
            return value.strip("'\"")
        indent = len(line) - len(stripped)
        body = []
        for more in lines[index + 1 :]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            body.append(more.strip())
        return " ".join(part for part in body if part)
    return ""


def run_suite(
    sandbox: Sandbox,
    root: Path,
    command: str = "",
    *,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    confined: bool = True,
    tests: tuple[str, ...] = (),
) -> TestReport:
    """Runs the project's tests (or only `tests`, pytest ids) in the sandbox, in `root`."""
    command = command or detect_test_command(root)
    runner = runner_of(command)
    full = command
    report = root / REPORT_FILE
    if runner == "pytest":
        full += f" -o junit_family=xunit1 --junitxml={REPORT_FILE}"
        full += "".join(f" {shlex.quote(t)}" for t in tests)
    elif runner == "go" and "-json" not in command:
        full = command.replace("go test", "go test -json", 1)
    report.unlink(missing_ok=True)
    result = sandbox.run(full, timeout_s=timeout_s, confined=confined, cancel=cancel)
    output = result.output
    passed, failures, passed_ids = 0, list[TestFailure](), set[str]()
    collected = True
    if runner == "pytest":
        xml_text = report.read_text(encoding="utf-8", errors="replace") if report.exists() else ""
        report.unlink(missing_ok=True)
        if xml_text:
            try:
                passed, failures, passed_ids = parse_junit(xml_text)
            except ElementTree.ParseError:
                xml_text = ""
        # 5: nothing collected; 2 and 4: the run was stopped by an error before the tests.
        collected = result.exit_code not in (5,) and (bool(xml_text) or result.exit_code == 0)
        if result.exit_code == 5:
            return TestReport("none", command, 5, output=_cap(output), collected=False)
    elif runner == "go":
        passed, failures, passed_ids = parse_go_json(output)
    elif runner == "npm" and TAP_RESULT.search(output):
        passed, failures, passed_ids = parse_tap(output)
    if runner not in ("pytest", "go") and not result.ok and not failures:
        failures = [TestFailure(runner, "", runner, "the tests failed", output, frames_in(output))]
    failures = [_within(failure, root) for failure in failures]
    return TestReport(
        runner,
        command,
        result.exit_code,
        passed,
        tuple(failures),
        _cap(output),
        result.timed_out,
        collected,
        frozenset(passed_ids),
    )
