"""Refactorings by the model: docstrings, explanations, rewrites, diagnostic fixes and tests.

Each action asks the model for as little as it can: a docstring's text rather than the whole
function again, the replacement of the selected lines rather than the whole file. The reply is
forced to start where it must (`reply_prefix`), which keeps small models on track. The action
then builds the candidate document itself and passes it through the safe edit pipeline
(agent.editing.edits); a rejected candidate is retried once with the reason as feedback.
"""

from agent.refactor.common import FUNCTION_KINDS, Refactoring, Target, Verify, enclosing_definition
from agent.refactor.docstrings import add_docstring, has_docstring
from agent.refactor.generated_tests import TestPlan, generate_tests, plan_tests, top_level_names
from agent.refactor.rewrites import explain, fix_diagnostic, rewrite

__all__ = [
    "FUNCTION_KINDS",
    "Refactoring",
    "Target",
    "TestPlan",
    "Verify",
    "add_docstring",
    "enclosing_definition",
    "explain",
    "fix_diagnostic",
    "generate_tests",
    "has_docstring",
    "plan_tests",
    "rewrite",
    "top_level_names",
]  # fmt: skip
