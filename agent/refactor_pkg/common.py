"""Refactorings by the model: docstrings, explanations, rewrites, diagnostic fixes and tests.

Each action asks the model for as little as it can: a docstring's text rather than the whole
function again, the replacement of the selected lines rather than the whole file. The reply is
forced to start where it must (`reply_prefix`), which keeps small models on track. The action
then builds the candidate document itself and passes it through the safe edit pipeline
(agent.edits); a rejected candidate is retried once with the reason as feedback.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from agent.edits import (
    EditRejected,
    FileChange,
    LineEdit,
    minimal_edits,
    replace_lines,
    syntax_errors,
    validate,
)
from agent.fences import code_in_reply
from agent.model import ChatModel
from agent.verify import SuiteVerdict
from indexing.parsing import parse
from indexing.symbols import Symbol, definitions
from inference.fences import fence_for, reply_stop

SYSTEM = (
    "You are a careful senior software engineer. You change only what you are asked to, keep "
    "the surrounding style and indentation, and answer with code only unless asked otherwise."
)
FENCE = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "typescript",
    "tsx": "tsx",
    "rust": "rust",
}
FUNCTION_KINDS = {"function", "method", "constructor"}


@dataclass(frozen=True)
class Target:
    """The code an action works on: whole lines first..last (inclusive)."""

    first: int
    last: int
    name: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Refactoring:
    title: str
    changes: list[FileChange]
    attempts: int = 1
    # Set when the model kept the code as it is: nothing to change, and the user is told so.
    up_to_date: str = ""
    # What the project's tests said of the change: "pass", "fail", "unchecked" (tests_detail
    # says why), or "" when the action does not run them.
    tests: str = ""
    tests_detail: str = ""


class _Unchanged(Exception):
    """The model's answer leaves the code as it was (up to whitespace)."""


def enclosing_definition(
    text: str, language: str, line: int, *, functions_only: bool = False
) -> Symbol | None:
    """The innermost definition (function, method, class...) around `line`."""
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        return None
    best = None
    for symbol in definitions(tree, language):
        if functions_only and symbol.kind not in FUNCTION_KINDS | {"method"}:
            continue
        inside = symbol.start[0] <= line <= symbol.end[0]
        if inside and (best is None or symbol.start >= best.start):
            best = symbol
    return best


def _fence(language: str) -> str:
    return FENCE.get(language, language)


def _code_block(text: str, language: str) -> str:
    mark = fence_for(text)  # longer than any fence the code holds (inference.fences)
    return f"{mark}{_fence(language)}\n{text}\n{mark}"


def _with_context(prompt: str, context: str) -> str:
    if not context:
        return prompt
    return f"Related code from the project, for reference:\n{context}\n\n{prompt}"


def _lines(text: str, target: Target) -> str:
    return "\n".join(text.split("\n")[target.first : target.last + 1])


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _retrying(
    model: ChatModel,
    messages: list[dict[str, str]],
    attempt: Callable[[str], FileChange],
    **ask: Any,
) -> tuple[FileChange, int]:
    """Asks, builds and validates; once more with the rejection as feedback; then gives up."""
    reply = model.chat(messages, **ask)
    try:
        return attempt(reply), 1
    except EditRejected as first:
        feedback = [
            *messages,
            {"role": "assistant", "content": ask.get("reply_prefix", "") + reply},
            {"role": "user", "content": f"That was rejected: {first}. Please try again."},
        ]
        reply = model.chat(feedback, **ask)
        try:
            return attempt(reply), 2
        except EditRejected as second:
            raise EditRejected(f"{second} (after one retry)") from None


# -- docstrings ----------------------------------------------------------------------------


def _python_definition(text: str, symbol: Symbol) -> Any:
    tree = parse(text.encode("utf-8"), "python")
    node = tree.root_node.descendant_for_point_range(symbol.start, symbol.start) if tree else None
    while node is not None and node.type not in ("function_definition", "class_definition"):
        node = node.parent
    return node


def _python_existing_docstring(node: Any) -> Any:
    """The statement holding the definition's docstring, or None. The grammar puts a
    docstring in the block either bare or inside an expression statement."""
    block = node.child_by_field_name("body") if node is not None else None
    first = block.named_children[0] if block is not None and block.named_children else None
    if first is None:
        return None
    if first.type == "string":
        return first
    if first.type == "expression_statement" and first.named_children:
        return first if first.named_children[0].type == "string" else None
    return None


def has_docstring(text: str, language: str, symbol: Symbol) -> bool:
    """Whether the definition already has a docstring (Python) or doc comment (others)."""
    if language == "python":
        return _python_existing_docstring(_python_definition(text, symbol)) is not None
    lines = text.split("\n")
    above = lines[symbol.start[0] - 1].strip() if symbol.start[0] > 0 else ""
    if language == "rust":
        return above.startswith("///")
    return above.endswith("*/")


def _python_docstring(text: str, symbol: Symbol, body: str) -> str:
    lines = text.split("\n")
    node = _python_definition(text, symbol)
    if node is None:
        raise EditRejected("the definition could not be found again")
    block = node.child_by_field_name("body")
    first_statement = (
        block.named_children[0] if block is not None and block.named_children else None
    )
    indent = _indent_of(lines[first_statement.start_point[0]]) if first_statement else "    "
    body = body.strip().strip('"').strip()
    if not body:
        raise EditRejected("the docstring is empty")
    if "\n" in body:
        head, rest = body.split("\n", 1)
        # Keep the reply's relative indentation (Args: entries under their heading).
        body_lines = [head.strip(), *textwrap.dedent(rest).split("\n")]
        docstring = [f'{indent}"""{body_lines[0]}']
        docstring += [f"{indent}{line}" if line else "" for line in body_lines[1:]]
        docstring.append(f'{indent}"""')
    else:
        docstring = [f'{indent}"""{body}"""']
    existing = _python_existing_docstring(node)
    if existing is not None:
        first, last = existing.start_point[0], existing.end_point[0]
        return "\n".join([*lines[:first], *docstring, *lines[last + 1 :]])
    after = block.start_point[0] if block is not None else symbol.start[0] + 1
    if block is not None and block.start_point[0] == symbol.start[0]:  # `def f(): return 1`
        raise EditRejected("a one-line definition has no room for a docstring")
    return "\n".join([*lines[:after], *docstring, *lines[after:]])


def _comment_docstring(text: str, symbol: Symbol, body: str, language: str) -> str:
    lines = text.split("\n")
    start = symbol.start[0]
    indent = _indent_of(lines[start])
    body_lines = [
        re.sub(r"^\s*(\*|///)\s?", "", line).rstrip() for line in body.strip().split("\n")
    ]
    body_lines = [line for line in body_lines if line.strip() not in ("/**", "*/", "*")]
    if not any(body_lines):
        raise EditRejected("the doc comment is empty")
    if language == "rust":
        comment = [f"{indent}/// {line}".rstrip() for line in body_lines]
        top = start
        while top > 0 and lines[top - 1].strip().startswith(("///", "#[")):
            top -= 1
        existing_end = top
        while existing_end < start and lines[existing_end].strip().startswith("///"):
            existing_end += 1
        return "\n".join([*lines[:top], *comment, *lines[existing_end:]])
    comment = [
        f"{indent}/**",
        *(f"{indent} * {line}".rstrip() for line in body_lines),
        f"{indent} */",
    ]
    top = start
    if top > 0 and lines[top - 1].strip().endswith("*/"):  # refresh an existing doc comment
        opening = top - 1
        while opening > 0 and not lines[opening].strip().startswith("/**"):
            opening -= 1
        if lines[opening].strip().startswith("/**"):
            return "\n".join([*lines[:opening], *comment, *lines[start:]])
    return "\n".join([*lines[:start], *comment, *lines[start:]])


def _docstring_form(text: str, language: str, symbol: Any, mark: str) -> tuple[str, list[str], str]:
    """(the reply's forced start, its stops, what to ask for) for a language's doc comments;
    Python's reply starts inside the docstring, after the definition's header. The reply
    opens with `mark`, and only that fence alone on a line ends it: a doc comment's own
    examples (```` ``` ```` in Markdown) do not."""
    stop = reply_stop(mark)
    if language == "python":
        lines = text.split("\n")
        header_end = symbol.start[0]
        while header_end < symbol.end[0] and not lines[header_end].rstrip().endswith(":"):
            header_end += 1
        header = "\n".join(lines[symbol.start[0] : header_end + 1])
        indent = _indent_of(lines[min(header_end + 1, len(lines) - 1)]) or "    "
        style = "a Python docstring (a summary line; then Args/Returns when they help)"
        return f'{mark}python\n{header}\n{indent}"""', ['"""', stop], style
    if language == "rust":
        return f"{mark}rust\n/// ", [stop, "\nfn ", "\npub "], "a Rust `///` doc comment"
    return f"{mark}{_fence(language)}\n/**\n * ", ["*/", stop], "a JSDoc comment"


def add_docstring(
    model: ChatModel, path: str, text: str, language: str, line: int, context: str = ""
) -> Refactoring:
    symbol = enclosing_definition(text, language, line)
    if symbol is None:
        raise EditRejected("there is no function or class here to document")
    target = Target(symbol.start[0], symbol.end[0], symbol.name, symbol.kind)
    code = _lines(text, target)
    prefix, stop, style = _docstring_form(text, language, symbol, fence_for(code))
    documented = has_docstring(text, language, symbol)
    task = (
        "It has one already: check it against the code and write it again, corrected where it "
        "is wrong or incomplete, otherwise word for word."
        if documented
        else "Describe what it does, not how."
    )
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": _with_context(
                f"Write {style} for `{symbol.name}`. {task}\n{_code_block(code, language)}",
                context,
            ),
        },
    ]

    def attempt(reply: str) -> FileChange:
        body = reply
        if language == "rust":
            kept = [reply.split("\n")[0]]
            kept += [ln for ln in reply.split("\n")[1:] if ln.strip().startswith("///")]
            body = "\n".join(kept)
        if language == "python":
            candidate = _python_docstring(text, symbol, body)
        else:
            candidate = _comment_docstring(text, symbol, body, language)
        if documented and candidate.split() == text.split():
            raise _Unchanged
        # A docstring may only touch the definition and the lines just above it.
        edits = validate(text, candidate, language, (max(0, target.first - 30), target.last + 1))
        return FileChange(path, text, candidate, edits)

    title = f"{'Refresh docstring of' if documented else 'Add docstring to'} {symbol.name}"
    try:
        change, attempts = _retrying(
            model, messages, attempt, reply_prefix=prefix, stop=stop, max_tokens=200
        )
    except _Unchanged:
        return Refactoring(title, [], up_to_date=f"the docstring of {symbol.name} is up to date")
    return Refactoring(title, [change], attempts)


# -- rewrite and fix -------------------------------------------------------------------------


Verify = Callable[[dict[str, str], dict[str, str]], SuiteVerdict]


@dataclass
class _Retry:
    """A second try at a red replacement, with what the tests said about the first."""

    model: ChatModel
    messages: list[dict[str, str]]
    attempt: Any
    ask: dict[str, Any]
    verify: Verify
    language: str

    def with_test_feedback(
        self, text: str, path: str, change: FileChange, target: Target, verdict: Any
    ) -> tuple[FileChange, Any, int]:
        feedback = [
            *self.messages,
            {"role": "assistant",
             "content": _code_block(_replaced(text, change, target), self.language)},
            {"role": "user", "content": f"The project's tests fail with that code:\n"
             f"{verdict.detail[:1500]}\nPlease fix it."},
        ]  # fmt: skip
        try:
            second, more = _retrying(self.model, feedback, self.attempt, **self.ask)
        except EditRejected:
            return change, verdict, 2
        second_verdict = self.verify({path: text}, {path: second.new_text})
        if not second_verdict.red:
            return second, second_verdict, more
        return change, verdict, more


def _replace_target(
    model: ChatModel,
    path: str,
    text: str,
    language: str,
    target: Target,
    request: str,
    title: str,
    context: str,
    verify: Verify | None = None,
) -> Refactoring:
    code = _lines(text, target)
    mark = fence_for(code)
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": _with_context(
                f"{request}\nReply with the complete replacement of this code, nothing else:\n"
                f"{_code_block(code, language)}",
                context,
            ),
        },
    ]

    def attempt(reply: str) -> FileChange:
        replacement = code_in_reply(reply, mark, language).rstrip("\n")
        if not replacement.strip():
            raise EditRejected("the reply was empty")
        candidate = replace_lines(text, target.first, target.last, replacement)
        edits = validate(text, candidate, language, (target.first, target.last))
        return FileChange(path, text, candidate, edits)

    ask: dict[str, Any] = {
        "reply_prefix": f"{mark}{_fence(language)}\n",
        "stop": [reply_stop(mark)],
        "max_tokens": max(256, 2 * len(code) // 3),
        "draft": code,  # most of a rewrite copies the code: speculative decoding
    }
    change, attempts = _retrying(model, messages, attempt, **ask)
    if verify is None:
        return Refactoring(title, [change], attempts)
    verdict = verify({path: text}, {path: change.new_text})
    if verdict.red:  # once more, with what the tests said; a red result is never passed off
        retry = _Retry(model, messages, attempt, ask, verify, language)
        change, verdict, more = retry.with_test_feedback(text, path, change, target, verdict)
        attempts += more
    if verdict.red:
        title += " (tests fail)"
    return Refactoring(title, [change], attempts, tests=verdict.status, tests_detail=verdict.detail)


def _replaced(text: str, change: FileChange, target: Target) -> str:
    """The lines that replaced the target in the change's text."""
    grown = len(change.new_text.split("\n")) - len(text.split("\n"))
    return "\n".join(change.new_text.split("\n")[target.first : target.last + 1 + grown])


def rewrite(
    model: ChatModel,
    path: str,
    text: str,
    language: str,
    first: int,
    last: int,
    instruction: str,
    context: str = "",
    verify: Verify | None = None,
) -> Refactoring:
    if not instruction.strip():
        raise EditRejected("a rewrite needs an instruction")
    return _replace_target(
        model,
        path,
        text,
        language,
        Target(first, last),
        f"Rewrite this {language} code: {instruction.strip()}",
        f"Rewrite: {instruction.strip()}",
        context,
        verify,
    )


def fix_diagnostic(
    model: ChatModel,
    path: str,
    text: str,
    language: str,
    line: int,
    message: str,
    context: str = "",
    verify: Verify | None = None,
) -> Refactoring:
    symbol = enclosing_definition(text, language, line, functions_only=True)
    lines = text.split("\n")
    if symbol is not None and symbol.end[0] - symbol.start[0] < 80:
        target = Target(symbol.start[0], symbol.end[0], symbol.name)
    else:
        target = Target(max(0, line - 2), min(len(lines) - 1, line + 2))
    where = f"line {line - target.first + 1} of this code (`{lines[line].strip()}`)"
    names = top_level_names(text, language)
    if names:  # the usual fix for an unknown name is one of these
        context = f"{context}\n\nNames defined at the top of {path}: {', '.join(names)}".strip()
    return _replace_target(
        model,
        path,
        text,
        language,
        target,
        f"Fix the problem a checker reported at {where}: {message}",
        f"Fix: {message}",
        context,
        verify,
    )


def explain(
    model: ChatModel, text: str, language: str, first: int, last: int, context: str = ""
) -> str:
    code = _lines(text, Target(first, last))
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": _with_context(
                "Explain what this code does to a developer who is about to change it: one summary "
                "sentence, then short bullet points (inputs, outputs, side effects, pitfalls). "
                f"Answer in Markdown.\n{_code_block(code, language)}",
                context,
            ),
        },
    ]
    return model.chat(messages, max_tokens=400).strip()


def top_level_names(text: str, language: str, limit: int = 60) -> list[str]:
    tree = parse(text.encode("utf-8"), language)
    if tree is None:
        return []
    found = [s.name for s in definitions(tree, language) if s.start[1] == 0]
    return list(dict.fromkeys(found))[:limit]


# -- tests -----------------------------------------------------------------------------------


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
