"""Refactoring actions with a scripted model (the model's words are given; what is tested is
how each action builds, checks and places them) on the multi-file fixture project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.editing.edits import EditRejected, apply_edits
from agent.model import ScriptedChatModel
from agent.refactor import add_docstring, fix_diagnostic, generate_tests, plan_tests, rewrite
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "index_project"
PRICING = (FIXTURE / "shop" / "pricing.py").read_text()
UTIL_TS = (FIXTURE / "web" / "util.ts").read_text()
RUST = "pub fn area(w: f64, h: f64) -> f64 {\n    w * h\n}\n"


def test_python_docstring_is_inserted_under_the_signature() -> None:
    model = ScriptedChatModel(['Add tax to a price, rounded to cents."""\n    return ...'])
    line = PRICING.split("\n").index("def with_tax(price: float) -> float:")
    result = add_docstring(model, "shop/pricing.py", PRICING, "python", line + 1)
    (change,) = result.changes
    assert '    """Add tax to a price, rounded to cents."""' in change.new_text.split("\n")
    assert apply_edits(PRICING, change.edits) == change.new_text
    messages, prefix = model.calls[0]
    assert prefix.endswith('def with_tax(price: float) -> float:\n    """')
    assert "with_tax" in messages[-1]["content"]


def test_an_existing_docstring_is_refreshed_not_duplicated() -> None:
    model = ScriptedChatModel(['Return `price` less `percent` per cent."""'])
    line = PRICING.split("\n").index("def apply_discount(price: float, percent: float) -> float:")
    (change,) = add_docstring(model, "p.py", PRICING, "python", line).changes
    assert change.new_text.count('"""') == PRICING.count('"""')
    assert '    """Return `price` less `percent` per cent."""' in change.new_text


def test_jsdoc_and_rust_doc_comments_go_above_the_definition() -> None:
    model = ScriptedChatModel(["Formats a number as dollars.\n */"])
    (change,) = add_docstring(model, "web/util.ts", UTIL_TS, "typescript", 1).changes
    assert change.new_text.startswith("/**\n * Formats a number as dollars.\n */\nexport function")
    rust_model = ScriptedChatModel(["The area of a rectangle.\n/// Both sides in metres.\n```"])
    (change,) = add_docstring(rust_model, "src/lib.rs", RUST, "rust", 1).changes
    assert change.new_text.startswith(
        "/// The area of a rectangle.\n/// Both sides in metres.\npub fn"
    )


def test_a_broken_reply_is_retried_once_with_the_reason_then_refused() -> None:
    first, last = 5, 7
    good = (
        "def apply_discount(price: float, percent: float) -> float:\n"
        "    return price - price * percent / 100\n"
    )
    model = ScriptedChatModel(["def apply_discount(price:\n    return (\n", good])
    result = rewrite(model, "p.py", PRICING, "python", first, last, "simplify")
    assert result.attempts == 2
    feedback = model.calls[1][0][-1]["content"]
    assert "does not parse" in feedback and "try again" in feedback
    assert "return price - price * percent / 100" in result.changes[0].new_text
    hopeless = ScriptedChatModel(["def broken(:\n", "def broken(:\n"])
    with pytest.raises(EditRejected, match="after one retry"):
        rewrite(hopeless, "p.py", PRICING, "python", first, last, "simplify")


def test_a_fix_replaces_only_the_enclosing_function() -> None:
    text = PRICING.replace(
        "return round(price * (1 + TAX_RATE), 2)", "return round(price * (1 + TAX_RAT), 2)"
    )
    line = text.split("\n").index("    return round(price * (1 + TAX_RAT), 2)")
    model = ScriptedChatModel(
        ["def with_tax(price: float) -> float:\n    return round(price * (1 + TAX_RATE), 2)\n"]
    )
    result = fix_diagnostic(model, "p.py", text, "python", line, "undefined name 'TAX_RAT'")
    assert result.changes[0].new_text == PRICING
    assert "undefined name 'TAX_RAT'" in model.calls[0][0][-1]["content"]
    # The function being rewritten is the speculative draft of the rewrite.
    first = text.split("\n").index("def with_tax(price: float) -> float:")
    assert model.drafts[0].split("\n")[0] == text.split("\n")[first]
    assert "TAX_RAT)" in model.drafts[0]


def test_tests_go_to_the_projects_test_folder_with_its_framework(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    plan = plan_tests(root, "shop/pricing.py", "python", "with_tax")
    assert (plan.framework, plan.path) == ("pytest", "tests/test_pricing.py")
    assert plan.header == "from shop.pricing import with_tax\n"
    model = ScriptedChatModel(["\n\ndef test_with_tax():\n    assert with_tax(10) == 12.0\n```"])
    line = PRICING.split("\n").index("def with_tax(price: float) -> float:")
    result = generate_tests(model, root, "shop/pricing.py", PRICING, "python", line)
    (change,) = result.changes
    assert change.original is None and change.path == "tests/test_pricing.py"
    assert change.new_text.startswith("from shop.pricing import with_tax\n")
    (root / "package.json").write_text('{"devDependencies": {"vitest": "^2"}}')
    plan = plan_tests(root, "web/util.ts", "typescript", "formatPrice")
    assert (plan.framework, plan.path) == ("vitest", "tests/util.test.ts")
    assert 'import { formatPrice } from "../web/util";' in plan.header
    (root / "Cargo.toml").write_text('[package]\nname = "my-crate"\n')
    plan = plan_tests(root, "src/geometry.rs", "rust", "area")
    assert (plan.path, plan.header) == ("tests/geometry_test.rs", "use my_crate::*;\n")


def test_a_long_docstring_keeps_its_nested_indentation() -> None:
    body = "Add tax.\n\n    Args:\n        price: before tax.\n\n    Returns:\n        After tax."
    reply = body + '\n    """'
    line = PRICING.split("\n").index("def with_tax(price: float) -> float:")
    (change,) = add_docstring(ScriptedChatModel([reply]), "p.py", PRICING, "python", line).changes
    assert f'    """{body}\n    """' in change.new_text


def test_a_docstring_the_model_keeps_as_it_is_is_up_to_date_not_an_error() -> None:
    line = PRICING.split("\n").index("def apply_discount(price: float, percent: float) -> float:")
    existing = PRICING.split("\n")[line + 1].strip().strip('"')
    model = ScriptedChatModel([existing + '"""'])
    result = add_docstring(model, "p.py", PRICING, "python", line)
    assert result.changes == [] and len(model.calls) == 1  # no retry for "unchanged"
    assert result.up_to_date == "the docstring of apply_discount is up to date"
    assert result.title == "Refresh docstring of apply_discount"
    # The model is told there is one already and to keep it where it is right.
    assert "has one already" in model.calls[0][0][-1]["content"]


def test_documented_definitions_are_known_in_each_language() -> None:
    from agent.refactor import enclosing_definition, has_docstring

    def documented(text: str, language: str, line: int) -> bool:
        symbol = enclosing_definition(text, language, line)
        assert symbol is not None
        return has_docstring(text, language, symbol)

    lines = PRICING.split("\n")
    assert documented(
        PRICING, "python", lines.index("def apply_discount(price: float, percent: float) -> float:")
    )
    assert not documented(PRICING, "python", lines.index("def with_tax(price: float) -> float:"))
    documented_ts = "/**\n * Formats.\n */\nexport function f(): string {\n  return '';\n}\n"
    assert documented(documented_ts, "typescript", 3)
    assert not documented(UTIL_TS, "typescript", 1)
    assert documented("/// The area.\n" + RUST, "rust", 1)
    assert not documented(RUST, "rust", 0)
