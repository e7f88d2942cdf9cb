"""The refactoring service's front door, for every front end: which actions a place offers
(from the syntax tree alone, no model), and running one of them.

The LSP turns offers into code actions and requests back into results; a CLI or the HTTP API
can do the same without copying the dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent import refactor
from agent.model import ChatModel
from agent.settings import AgentSettings
from agent.verify import SuiteVerifier, sandbox_report


@dataclass(frozen=True)
class Offer:
    title: str
    kind: str  # "rewrite", "extract" or "quickfix"
    action: str  # "docstring", "tests" or "fix"
    line: int
    message: str = ""
    diagnostic: int = -1  # the index of the diagnostic a fix answers


@dataclass(frozen=True)
class ActionRequest:
    action: str  # "docstring", "tests", "fix" or "rewrite"
    path: str  # relative to the workspace root
    text: str  # the document as the user has it (unsaved changes included)
    language: str
    line: int
    last_line: int = -1  # a rewrite's last line; -1: the first
    message: str = ""  # a fix's diagnostic
    instruction: str = ""  # a rewrite's


def offers(text: str, language: str, line: int, diagnostics: list[tuple[int, str]]) -> list[Offer]:
    """The model actions at `line`; `diagnostics` are (line, message) pairs in the range."""
    found: list[Offer] = []
    symbol = refactor.enclosing_definition(text, language, line)
    if symbol is not None:
        documented = refactor.has_docstring(text, language, symbol)
        verb, preposition = ("Refresh", "of") if documented else ("Add", "to")
        found.append(Offer(f"{verb} docstring {preposition} {symbol.name}", "rewrite",
                           "docstring", line))  # fmt: skip
        if symbol.kind in refactor.FUNCTION_KINDS:
            found.append(Offer(f"Generate tests for {symbol.name}", "extract", "tests", line))
    for index, (at, message) in enumerate(diagnostics):
        first = message.split("\n")[0]
        found.append(Offer(f"Fix: {first[:80]}", "quickfix", "fix", at, first, index))
    return found


def verifier(root: Path, settings: AgentSettings) -> refactor.Verify:
    """How rewrites and fixes are checked: the project's tests in the sandbox, capped."""
    return SuiteVerifier(
        root, settings, sandbox_report(settings.sandbox), settings.refactor_test_cap_s
    ).check


class UnknownAction(ValueError):
    pass


def run_action(
    model: ChatModel,
    request: ActionRequest,
    root: Path,
    context: str = "",
    verify: refactor.Verify | None = None,
) -> refactor.Refactoring:
    """Runs one action; EditRejected says why there is no edit."""
    r = request
    if r.action == "docstring":
        return refactor.add_docstring(model, r.path, r.text, r.language, r.line, context)
    if r.action == "tests":
        return refactor.generate_tests(model, root, r.path, r.text, r.language, r.line, context)
    if r.action == "fix":
        return refactor.fix_diagnostic(
            model, r.path, r.text, r.language, r.line, r.message, context, verify
        )
    if r.action == "rewrite":
        last = r.last_line if r.last_line >= 0 else r.line
        return refactor.rewrite(
            model, r.path, r.text, r.language, r.line, last, r.instruction, context, verify
        )
    raise UnknownAction(f"unknown action {r.action!r}")
