"""Tests for a file: where they go (beside the project's own tests, in their style), and
the model's tests, kept only when they pass against the code as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent.editing.edits import (
    EditRejected,
    FileChange,
    LineEdit,
    minimal_edits,
    syntax_errors,
)
from agent.editing.fences import code_in_reply
from agent.model import ChatModel
from agent.refactor.common import (
    SYSTEM,
    Refactoring,
    _code_block,
    _fence,
    _retrying,
    _with_context,
    enclosing_definition,
)
from indexing.parsing import parse
from indexing.symbols import definitions
from inference.fences import fence_for, reply_stop


def top_level_names(text: str, language: str, limit: int = 60) -> list[str]:
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        return []
    found = [s.name for s in definitions(tree, language) if s.start[1] == 0]
    return list(dict.fromkeys(found))[:limit]


@dataclass(frozen=True)
class TestPlan:
    framework: str
    path: str  # of the test file, relative to the root
    header: str  # the import lines the file starts with


def _read(root: Path, name: str) -> str:
    try:
        return (root / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def plan_tests(root: Path, path: str, language: str, name: str) -> TestPlan:
    """Where the tests go and which framework writes them, from the project's own files."""
    source = PurePosixPath(path)
    folder = next((d for d in ("tests", "test", "__tests__") if (root / d).is_dir()), "")
    if language == "python":
        pyproject = (
            _read(root, "pyproject.toml") + _read(root, "setup.cfg") + _read(root, "tox.ini")
        )
        uses_pytest = (
            "pytest" in pyproject
            or (root / "conftest.py").exists()
            or (bool(folder) and any((root / folder).glob("conftest.py")))
        )
        parts = list(source.with_suffix("").parts)
        if parts and parts[0] == "src":
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        module = ".".join(parts)
        test_path = str(
            PurePosixPath(folder or source.parent.as_posix()) / f"test_{source.stem}.py"
        )
        framework = "pytest" if uses_pytest else "unittest"
        header = f"from {module} import {name}\n"
        if framework == "unittest":
            header = f"import unittest\n\n{header}"
        return TestPlan(framework, test_path.removeprefix("./"), header)
    if language in ("javascript", "typescript", "tsx"):
        package = _read(root, "package.json")
        framework = (
            "vitest" if "vitest" in package else "jest" if "jest" in package else "node:test"
        )
        ext = source.suffix
        js_dir = PurePosixPath(folder) if folder else source.parent
        js_test = js_dir / f"{source.stem}.test{ext}"
        relative = (
            PurePosixPath(*([".."] * len(js_dir.parts)), source.with_suffix("")).as_posix()
            if folder
            else f"./{source.stem}"
        )
        header = f'import {{ {name} }} from "{relative}";\n'
        if framework == "vitest":
            header = 'import { describe, expect, it } from "vitest";\n' + header
        elif framework == "node:test":
            header = (
                'import { describe, it } from "node:test";\n'
                'import assert from "node:assert/strict";\n' + header
            )
        return TestPlan(framework, js_test.as_posix(), header)
    if language == "rust":
        crate = re.search(r'^name\s*=\s*"([^"]+)"', _read(root, "Cargo.toml"), re.M)
        crate_name = (crate.group(1) if crate else "crate").replace("-", "_")
        return TestPlan("cargo test", f"tests/{source.stem}_test.rs", f"use {crate_name}::*;\n")
    raise EditRejected(f"generating tests for {language} is not supported")


def generate_tests(
    model: ChatModel,
    root: Path,
    path: str,
    text: str,
    language: str,
    line: int,
    context: str = "",
) -> Refactoring:
    symbol = enclosing_definition(text, language, line, functions_only=True)
    if symbol is None:
        raise EditRejected("there is no function here to test")
    plan = plan_tests(root, path, language, symbol.name)
    code = "\n".join(text.split("\n")[symbol.start[0] : symbol.end[0] + 1])
    existing = _read(root, plan.path) or None
    mark = fence_for(code)
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": _with_context(
                f"Write {plan.framework} unit tests for `{symbol.name}` from `{path}`: typical "
                f"cases and edge cases, each test small and named for what it checks.\n"
                f"{_code_block(code, language)}",
                context,
            ),
        },
    ]

    def attempt(reply: str) -> FileChange:
        body = code_in_reply(reply, mark, language).rstrip() + "\n"
        if existing is None:
            candidate = plan.header + body
        else:
            # Appending to an existing test file: its imports go first, the rest at the end.
            candidate = plan.header + existing.rstrip() + "\n\n\n" + body
        errors = syntax_errors(candidate, language)
        if errors:
            line_text = candidate.split("\n")[errors[0]].strip()
            raise EditRejected(
                f"the tests do not parse: syntax error at line {errors[0] + 1}: {line_text!r}"
            )
        if symbol.name not in body:
            raise EditRejected(f"the tests never call {symbol.name}")
        if existing is None:  # a new file: one edit that fills it
            edits = [LineEdit(0, 1, tuple(candidate.split("\n")))]
        else:
            edits = minimal_edits(existing, candidate)
        return FileChange(plan.path, existing, candidate, edits)

    change, attempts = _retrying(
        model,
        messages,
        attempt,
        reply_prefix=f"{mark}{_fence(language)}\n{plan.header}",
        stop=[reply_stop(mark)],
        max_tokens=700,
    )
    return Refactoring(f"Generate {plan.framework} tests for {symbol.name}", [change], attempts)
