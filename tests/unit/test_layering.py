"""The packages' boundaries, read from their imports (module level and inside functions):
services never import the front end, and indexing and inference do not know each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

FORBIDDEN = {
    "indexing": {"lsp_server", "inference", "agent"},
    "inference": {"lsp_server", "indexing", "agent"},
    "agent": {"lsp_server"},
    # Benchmarks are never a dependency of the tests: shared fixture builders live in
    # tests/support, which both import.
    "tests": {"bench"},
    "lsp_server": {"bench"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_service_package_imports_only_what_its_layer_allows(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
        if "fixtures" not in path.relative_to(ROOT).parts  # projects the tests read, not code
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_test_modules_share_helpers_only_through_tests_support() -> None:
    wrong = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "fixtures" in path.parts or "support" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = [
            node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        ]  # fmt: skip
        others = [m for m in modules if m.startswith("tests.") and m != "tests.support"
                  and not m.startswith("tests.support.")]  # fmt: skip
        if others:
            wrong[str(path.relative_to(ROOT))] = others
    assert wrong == {}


def test_the_cli_and_the_standalone_web_server_load_nothing_of_the_language_server() -> None:
    """The front ends sit side by side over one builder (lsp_server.services): `treellama
    agent` and `treellama web` load neither pygls nor the LSP server's modules."""
    import subprocess
    import sys

    probe = (
        "import sys, lsp_server.cli, lsp_server.web.server, lsp_server.services\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pygls' or m in "
        "('lsp_server.server', 'lsp_server.agent_frontend', 'lsp_server.protocol', "
        "'lsp_server.web.embedded') or m.startswith('lsp_server.features')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
