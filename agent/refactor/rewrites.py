"""Rewriting the selected lines, fixing a diagnostic and explaining code: the model writes
the replacement of the lines only; the action splices it and checks it (agent.editing.edits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.editing.edits import (
    EditRejected,
    FileChange,
    replace_lines,
    validate,
)
from agent.editing.fences import code_in_reply
from agent.model import ChatModel
from agent.refactor.common import (
    SYSTEM,
    Refactoring,
    Target,
    Verify,
    _code_block,
    _fence,
    _lines,
    _retrying,
    _with_context,
    enclosing_definition,
)
from agent.refactor.generated_tests import top_level_names
from inference.fences import fence_for, reply_stop


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
