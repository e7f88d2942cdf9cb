"""The agent's tools on a real isolated copy: edits go through the safe edit pipeline."""

from __future__ import annotations

import json

from llama_cpp import LlamaGrammar

from agent.loop.tool_calls import FormatError, call_grammar, parse_call
from agent.loop.tools import ToolContext, run_tool


def test_edit_exact_loose_and_refused(context: ToolContext) -> None:
    root = context.root
    ok = run_tool(
        context, "edit_file", {"path": "calc.py", "old": "return a - b", "new": "return a + b"}
    )
    assert ok.ok and ok.changed_files == ("calc.py",)
    # Indentation the model got wrong is matched loosely and re-indented.
    loose = run_tool(
        context, "edit_file", {"path": "calc.py", "old": "return a + b", "new": "return b + a"}
    )
    assert loose.ok
    loose = run_tool(
        context,
        "edit_file",
        {
            "path": "calc.py",
            "old": "def add(a, b):\n  return b + a",
            "new": "def add(a, b):\n  return int(a + b)",
        },
    )
    assert loose.ok and "    return int(a + b)" in (root / "calc.py").read_text()
    collapsed = run_tool(
        context,
        "edit_file",
        {
            "path": "calc.py",
            "old": "def add(a, b): return int(a + b)",
            "new": "def add(a, b):\n    return a + b",
        },
    )
    assert collapsed.ok and (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    run_tool(
        context, "edit_file", {"path": "calc.py", "old": "return a + b", "new": "return int(a + b)"}
    )
    broken = run_tool(
        context,
        "edit_file",
        {"path": "calc.py", "old": "return int(a + b)", "new": "return int(a + b"},
    )
    assert not broken.ok and "does not parse" in broken.text
    missing = run_tool(context, "edit_file", {"path": "calc.py", "old": "nope", "new": "x"})
    assert not missing.ok and "not found" in missing.text
    created = run_tool(context, "edit_file", {"path": "pkg/new.py", "old": "", "new": "X = 1"})
    assert created.ok and (root / "pkg/new.py").read_text() == "X = 1\n"
    escape = run_tool(context, "edit_file", {"path": "../outside.py", "old": "", "new": "X = 1"})
    assert not escape.ok and "outside the project" in escape.text


def test_unified_diff(context: ToolContext) -> None:
    diff = (
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
        "-    return a - b\n+    return a + b\n"
    )
    result = run_tool(context, "apply_diff", {"diff": diff})
    assert result.ok, result.text
    assert "return a + b" in (context.root / "calc.py").read_text()
    bad = run_tool(context, "apply_diff", {"diff": diff})
    assert not bad.ok


def test_read_search_find_and_secrets(context: ToolContext) -> None:
    (context.root / ".env").write_text("TOKEN=abcdefgh12345\n")
    read = run_tool(context, "read_file", {"path": "calc.py", "start_line": 2, "end_line": 2})
    assert read.text.endswith("    2|     return a - b")
    assert not run_tool(context, "read_file", {"path": ".env"}).ok
    listed = run_tool(context, "list_files", {}).text.split("\n")
    assert "calc.py" in listed and ".env" not in listed
    assert "test_calc.py:1:" in run_tool(context, "search_code", {"query": "add"}).text
    found = run_tool(context, "find_symbol", {"name": "add"}).text
    assert found.startswith("calc.py:1:") and "    2|     return a - b" in found
    output = run_tool(context, "run_command", {"command": "cat .env"}).text
    assert "abcdefgh12345" not in output


def test_edit_with_an_elided_stretch(context: ToolContext) -> None:
    """Small models shorten the old text with "..."; the lines around it must match once, and
    an elision in new keeps the stretch."""
    path = context.root / "calc.py"
    path.write_text(
        "def add(a, b):\n    x = a\n    y = b\n    z = x + y\n    return z - 0\n\n\n"
        "def mul(a, b):\n    return a * b\n"
    )
    kept = run_tool(context, "edit_file", {
        "path": "calc.py",
        "old": "def add(a, b):\n    ...\n    return z - 0",
        "new": "def add(a, b):\n    # ...\n    return z",
    })  # fmt: skip
    assert kept.ok, kept.text
    assert path.read_text().startswith(
        "def add(a, b):\n    x = a\n    y = b\n    z = x + y\n    return z\n"
    )
    replaced = run_tool(context, "edit_file", {
        "path": "calc.py",
        "old": "def add(a, b):\n# ... rest unchanged\nreturn z",
        "new": "def add(a, b):\n    return a + b",
    })  # fmt: skip
    assert replaced.ok, replaced.text
    assert (
        path.read_text()
        == "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
    )
    ambiguous = run_tool(context, "edit_file", {
        "path": "calc.py", "old": "def ...\n...\nreturn a", "new": "x = 1",
    })  # fmt: skip
    assert not ambiguous.ok


def test_tool_call_grammar_and_parsing() -> None:
    LlamaGrammar.from_string(call_grammar(), verbose=False)  # llama.cpp accepts it
    call = parse_call('Here: {"thought": "t", "tool": "run_tests", "args": {}} trailing')
    assert call.tool == "run_tests" and call.args == {}
    # Code travels in fenced blocks after the JSON header, and renders back the same way.
    text = (
        '{"thought": "fix", "tool": "edit_file", "args": {"path": "calc.py"}}\n'
        "```old\n    return a - b\n```\n```new\n    return a + b\n```"
    )
    edit = parse_call(text)
    assert edit.args == {"path": "calc.py", "old": "    return a - b\n",
                         "new": "    return a + b\n"}  # fmt: skip
    assert edit.render() == text and parse_call(edit.render()) == edit
    diff = parse_call('{"thought": "", "tool": "apply_diff", "args": {}}\n```diff\n--- a/x\n```')
    assert diff.args == {"diff": "--- a/x\n"}
    try:
        parse_call('{"thought": "", "tool": "edit_file", "args": {"path": "calc.py"}}')
    except FormatError as exc:
        assert "```old block" in str(exc)
    else:
        raise AssertionError("an edit without its blocks parsed")
    # The header's grammar asks no code of edit_file; the blocks follow it.
    grammar = call_grammar()
    assert '"\\n```old\\n" block-body "```" "\\n```new\\n" block-body "```"' in grammar
    assert '"\\n```diff\\n" block-body "```"' in grammar
    # A JSON string is still accepted (older transcripts); raw newlines inside it parse.
    raw = '{"thought": "", "tool": "edit_file", "args": {"path": "a", "old": "x\n", "new": "y\n"}}'
    assert parse_call(raw).args["old"] == "x\n"
    for bad, message in [
        ("no json", "no JSON object"),
        ('{"tool": "read_file", "args": {}}', "read_file needs path"),
        ('{"tool": "read_file", "args": {"path": "a", "mode": "r"}}', "no argument 'mode'"),
        ('{"tool": "run_tests", "args": {"path": 3}}', "path must be a string"),
        (json.dumps({"tool": "read_file", "args": {"path": "a"}})[:-2], "not closed"),
    ]:
        try:
            parse_call(bad)
        except FormatError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_test_files_are_protected_unless_the_task_asks_for_test_changes(context) -> None:
    from agent.env.test_files import asks_for_test_changes
    from agent.loop.tools import apply_diff, edit_file

    context.tests_editable = False
    weakened = edit_file(context, "test_calc.py", "== 5", "== -1")
    assert not weakened.ok and "test file" in weakened.text
    diff = (
        "--- a/test_calc.py\n+++ b/test_calc.py\n@@ -5 +5 @@\n"
        "-    assert add(2, 3) == 5\n+    assert True\n"
    )
    assert not apply_diff(context, diff).ok
    assert "== 5" in (context.root / "test_calc.py").read_text()
    assert edit_file(context, "calc.py", "a - b", "a + b").ok  # the code itself: fine
    context.tests_editable = True
    assert edit_file(context, "test_calc.py", "== 5", "== 5  # checked").ok
    assert asks_for_test_changes("add a test for parse_date")
    assert asks_for_test_changes("update the tests for the new API")
    assert not asks_for_test_changes("make the failing test in test_calc.py pass")
    assert not asks_for_test_changes("last_n returns one too many; fix it so test_lists.py passes")


def test_a_missed_edit_quotes_the_closest_lines(context) -> None:
    from agent.loop.tools import edit_file

    missed = edit_file(context, "calc.py", "def add(a,b):\n    return a-b", "x")
    assert not missed.ok and "Did you mean" in missed.text
    assert "    1| def add(a, b):" in missed.text and "    2|     return a - b" in missed.text
