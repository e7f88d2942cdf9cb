"""The agent's tools on a real isolated copy: edits go through the safe edit pipeline."""

from __future__ import annotations

import json

from llama_cpp import LlamaGrammar

from agent.tool_calls import FormatError, call_grammar, parse_call
from agent.tools import ToolContext, run_tool


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


def test_tool_call_grammar_and_parsing() -> None:
    LlamaGrammar.from_string(call_grammar(), verbose=False)  # llama.cpp accepts it
    call = parse_call('Here: {"thought": "t", "tool": "run_tests", "args": {}} trailing')
    assert call.tool == "run_tests" and call.args == {}
    # Raw newlines inside strings (which the grammar allows) still parse.
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
