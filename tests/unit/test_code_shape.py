"""The shape the code keeps (read from the source): short functions, and LSP feature modules
that only register handlers, with the logic in plain modules any front end can call."""

from __future__ import annotations

import ast

from tests.support.paths import ROOT

PACKAGES = ("lsp_server", "inference", "indexing", "agent")
MAX_FUNCTION_LINES = 60
MAX_FEATURE_LINES = 800  # lsp_server/features/, all modules together
MAX_CLASS_LINES = 300
MAX_MODULE_LINES = 400


def _modules():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_function_is_over_sixty_lines():
    long = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_the_lsp_feature_modules_stay_thin():
    features = sorted((ROOT / "lsp_server" / "features").glob("*.py"))
    total = sum(len(p.read_text(encoding="utf-8").split("\n")) for p in features)
    assert total <= MAX_FEATURE_LINES, f"lsp_server/features/ is {total} lines"


def test_no_class_is_over_three_hundred_lines():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_no_module_is_over_four_hundred_lines():
    long = [
        f"{path.relative_to(ROOT)} ({count})"
        for path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []
