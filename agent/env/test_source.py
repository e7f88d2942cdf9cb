"""The source of a failing test, for the rewrite prompt: the model sees what the test does,
not only what it printed.

A pytest or Go failure names its test function; a node test is a call (`test('adds', ...)`,
`it(...)` inside a `describe`), found at the line where its stack enters the test file. Each
comes with the imports it uses (Python) or the file's imports and requires (JavaScript), so
that the names it calls are where the model can see them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.editing.python_imports import imports_used_by
from agent.env.test_files import is_test_path
from agent.env.test_report import TestFailure, TestReport
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import definitions, flatten

MAX_FAILURES = 4
MAX_GO_FILES = 200  # test files searched for a Go test's function
TEST_CALLS = ("test", "it", "specify")  # node:test, jest, mocha, vitest
JS_IMPORTS = ("import_statement", "lexical_declaration", "variable_declaration")


def failing_tests_source(root: Path, report: TestReport) -> str:
    """The failing tests' code (of the first few failures), each once."""
    parts = [failing_test_source(root, failure) for failure in report.failures[:MAX_FAILURES]]
    return "\n\n".join(dict.fromkeys(part for part in parts if part))


def failing_test_source(root: Path, failure: TestFailure) -> str:
    for path, line in _test_files(root, failure):
        text = (root / path).read_text(encoding="utf-8", errors="replace")
        language = language_for(None, path)
        tree = parse(text.encode("utf-8"), language) if language else None
        if tree is None or language is None:
            continue
        lines = text.split("\n")
        body = _named(tree, language, lines, failure.name.split("[")[0])
        if not body and line:
            body = _call_at(tree, lines, line - 1)
        if body:
            head = _head(text, tree, language, body)
            return f"# {path}\n{head}\n\n{body}" if head else f"# {path}\n{body}"
    return ""


def _test_files(root: Path, failure: TestFailure) -> list[tuple[str, int]]:
    """(test file, a line of it the failure ran through, or 0), best first."""
    found = [(f.path, f.line) for f in failure.frames if is_test_path(f.path)]
    if failure.file and is_test_path(failure.file):
        found.insert(0, (failure.file, next((n for p, n in found if p == failure.file), 0)))
    if not found and failure.name.startswith("Test"):  # a Go test names no file
        declares = f"func {failure.name}("
        found = [
            (p.relative_to(root).as_posix(), 0)
            for p in sorted(root.rglob("*_test.go"))[:MAX_GO_FILES]
            if declares in p.read_text(encoding="utf-8", errors="replace")
        ]
    return [(path, line) for path, line in dict.fromkeys(found) if (root / path).is_file()]


def _named(tree: Any, language: str, lines: list[str], name: str) -> str:
    for symbol in flatten(definitions(tree, language)):
        if symbol.name == name and symbol.kind in ("function", "method"):
            return "\n".join(lines[symbol.start[0] : symbol.end[0] + 1])
    return ""


def _call_at(tree: Any, lines: list[str], row: int) -> str:
    """The innermost `test(...)` / `it(...)` statement around the row."""
    column = len(lines[row]) - len(lines[row].lstrip()) if row < len(lines) else 0
    point = (row, column)
    node = tree.root_node.descendant_for_point_range(point, point)
    while node is not None:
        if node.type == "expression_statement" and _test_call(node):
            return "\n".join(lines[node.start_point[0] : node.end_point[0] + 1])
        node = node.parent
    return ""


def _test_call(statement: Any) -> bool:
    call = statement.named_children[0] if statement.named_children else None
    if call is None or call.type != "call_expression":
        return False
    callee = call.child_by_field_name("function")
    name = callee.text.decode("utf-8", "replace") if callee is not None else ""
    return name.split(".")[0] in TEST_CALLS


def _head(text: str, tree: Any, language: str, body: str) -> str:
    if language == "python":
        return "\n".join(imports_used_by(text, body))
    if language in ("javascript", "typescript", "tsx"):
        return "\n".join(
            node.text.decode("utf-8", "replace")
            for node in tree.root_node.named_children
            if node.type in JS_IMPORTS
            and (node.type == "import_statement" or b"require(" in node.text)
        )
    return ""
