"""What the refactorings share: their targets and results, the code blocks of their prompts,
and asking again once with the reason a reply was rejected.

Refactorings by the model: docstrings, explanations, rewrites, diagnostic fixes and tests.

Each action asks the model for as little as it can: a docstring's text rather than the whole
function again, the replacement of the selected lines rather than the whole file. The reply is
forced to start where it must (`reply_prefix`), which keeps small models on track. The action
then builds the candidate document itself and passes it through the safe edit pipeline
(agent.editing.edits); a rejected candidate is retried once with the reason as feedback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.editing.edits import (
    EditRejected,
    FileChange,
)
from agent.model import ChatModel
from agent.verify import SuiteVerdict
from indexing.parsing import parse
from indexing.symbols import Symbol, definitions
from inference.fences import fence_for

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


# Runs the project's tests with files replaced: {path: text} before and after.
Verify = Callable[[dict[str, str], dict[str, str]], SuiteVerdict]
