"""`make demo`: start `treellama serve` over stdio, drive it with a real LSP client on the sample
project, and print the inline completions it returns with their latencies, the index and a
refactoring; then run an agent task on a tiny project with a failing test."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SAMPLE = Path(__file__).parent / "sample_project"
AGENT_PROJECT = Path(__file__).parent / "agent_project"

# The demo shows whole suggestions, so it lifts the time caps that keep a busy or slow CPU
# responsive in daily use (a capped prompt answers empty and finishes in the background).
OPTIONS = {"treellama": {"completion": {"maxPromptMs": 0, "maxPredictMs": 10000}}}

# (file, 0-based line, column, what the cursor is in)
SPOTS = [
    ("inventory.py", 14, 4, "empty body of total_value()"),
    ("inventory.py", 20, 26, "min(items, key=|"),
    ("inventory.py", 25, 8, "loop body of restock()"),
    ("stats.js", 8, 2, "empty line in variance()"),
]


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
    )


async def main() -> int:
    client = LanguageClient("treellama-demo", "0.1.0")
    messages: list[str] = []
    client.feature(types.WINDOW_SHOW_MESSAGE)(lambda params: messages.append(params.message))
    client.feature(types.WINDOW_LOG_MESSAGE)(lambda params: messages.append(params.message))
    client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)(lambda params: None)
    client.feature(types.PROGRESS)(lambda params: None)

    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "lsp_server", "--log-level", "warning", "serve")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities(),
            workspace_folders=[types.WorkspaceFolder(SAMPLE.as_uri(), "sample_project")],
            initialization_options=OPTIONS,
        )
    )
    client.initialized(types.InitializedParams())
    print(f"server initialized in {(time.perf_counter() - started) * 1000:.0f} ms")

    status = {}
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        if status["model"]["state"] not in ("loading", "not_loaded"):
            break
        await asyncio.sleep(0.05)
    model = status["model"]
    if model["state"] != "ready":
        print(f"model unavailable: {model['message']}. Fix: {model['fix']}")
        return 1
    print(f"model {model['name']} loaded in {model['loadMs']} ms\n")

    opened: set[str] = set()
    for filename, line, column, where in SPOTS:
        path = SAMPLE / filename
        if filename not in opened:
            language = "python" if filename.endswith(".py") else "javascript"
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(path.as_uri(), language, 1, path.read_text())
                )
            )
            opened.add(filename)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(path.as_uri()),
            position=types.Position(line, column),
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
        )
        before = time.perf_counter()
        result = await client.text_document_inline_completion_async(params)
        latency = (time.perf_counter() - before) * 1000
        text = result.items[0].insert_text if result and result.items else ""
        print(f"── {filename}:{line + 1}:{column + 1}  {where}  ({latency:.0f} ms)")
        cursor_line = path.read_text().split("\n")[line][:column]
        for index, suggestion_line in enumerate(str(text).split("\n") or [""]):
            prefix = cursor_line if index == 0 else ""
            print(
                f"   {prefix}\x1b[2m{suggestion_line}\x1b[0m"
                if sys.stdout.isatty()
                else f"   {prefix}{suggestion_line}"
            )
        print()

    await show_index_and_refactoring(client)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    await show_agent_task()
    return 0


async def show_agent_task() -> None:
    """An agent task on a copy of a tiny project with a failing test: live steps, then the
    diff it would hand the editor for review (the demo does not apply it)."""
    work = Path(tempfile.mkdtemp(prefix="treellama-demo-agent-")) / "calc"
    shutil.copytree(AGENT_PROJECT, work)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run(
            [
                "git",
                "-C",
                str(work),
                "-c",
                "user.name=demo",
                "-c",
                "user.email=demo@example.com",
                *args,
            ],
            check=True,
        )
    client = LanguageClient("treellama-demo", "0.1.0")
    done = asyncio.Event()

    def on_event(params: Any) -> None:  # not `object`: pygls would pass the client first
        def get(value: object, name: str) -> object:
            return value.get(name) if isinstance(value, dict) else getattr(value, name, None)

        kind, step, message = get(params, "kind"), get(params, "step"), str(get(params, "message"))
        data = get(params, "data")
        if kind in ("reproduce", "localize", "test_written"):
            print(f"   [{step}] {kind}: {message[:100]}", flush=True)
        elif kind == "candidate":
            diff = str(get(data, "diff") or "")
            changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in "+++---"]
            print(f"   [{step}] {message[:90]}", flush=True)
            for line in changed[:4]:
                print(f"         {line[:90]}", flush=True)
        elif kind == "validate":
            print(f"       -> tests: {message.split(': ', 1)[-1][:80]}", flush=True)
        elif kind == "chosen":
            print(f"   chosen: {message[:120]}", flush=True)
        elif kind == "tool_call":
            print(f"   [{step}] {message[:90]}", flush=True)
        elif kind == "tool_result":
            ok = "ok" if get(get(params, "data"), "ok") else "failed"
            print(f"       -> {ok}: {message.split(chr(10))[0][:80]}", flush=True)
        elif kind in ("done", "failed"):
            print(f"   {kind}: {message[:120]}", flush=True)
            done.set()

    client.feature("treellama/agentEvent")(on_event)
    client.feature(types.WINDOW_LOG_MESSAGE)(lambda params: None)
    await client.start_io(sys.executable, "-m", "lsp_server", "--log-level", "warning", "serve")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(work.as_uri(), "calc")],
            initialization_options={"treellama": {"agent": {"maxSteps": 8}}},
        )
    )
    client.initialized(types.InitializedParams())
    instruction = "make the failing test in test_calc.py pass"
    print(f"── agent task: {instruction!r} (sandboxed copy; candidates, and the tests choose)")
    started = time.perf_counter()
    task = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="treellama.agent.start",
            arguments=[{"instruction": instruction, "effort": "low", "approvalPolicy": "never"}],
        )
    )
    await asyncio.wait_for(done.wait(), timeout=600)
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="treellama.agent.status", arguments=[task])
    )
    print(
        f"   {status['status']} in {time.perf_counter() - started:.0f} s, {status['tokens']:,} "
        f"tokens; your files are unchanged until you apply:"
    )
    for line in (status["diff"] or "   (no changes)\n").splitlines():
        print(f"   {line}")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(work.parent, ignore_errors=True)


async def show_index_and_refactoring(client: LanguageClient) -> None:
    """The workspace index (no model) and a refactoring code action (the model)."""
    for _ in range(200):
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        if status["index"]["state"] == "ready":
            break
        await asyncio.sleep(0.05)
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="chpst"))
    names = ", ".join(f"{s.name} ({Path(s.location.uri).name})" for s in symbols or [])
    print(f"── workspace/symbol 'chpst' (fuzzy, from the index): {names}")
    uri = (SAMPLE / "inventory.py").as_uri()
    text = (SAMPLE / "inventory.py").read_text()
    line = text.split("\n").index("def restock(items: list[Item], name: str, amount: int) -> None:")
    found = await client.text_document_definition_async(
        types.DefinitionParams(types.TextDocumentIdentifier(uri), types.Position(line, 28))
    )
    where = [f"{Path(loc.uri).name}:{loc.range.start.line + 1}" for loc in found or []]
    print(f"── definition of Item at inventory.py:{line + 1}: {', '.join(where)}\n")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(line + 1, 0), types.Position(line + 1, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    print("── code actions on restock(): " + "; ".join(a.title for a in actions or []))
    docstring = next(a for a in actions if "docstring" in a.title)
    before = time.perf_counter()
    resolved = await client.code_action_resolve_async(docstring)
    latency = (time.perf_counter() - before) * 1000
    edits = resolved.edit.changes[uri] if resolved.edit and resolved.edit.changes else []
    print(f"── {docstring.title}  ({latency:.0f} ms), an edit for the editor to review:")
    for edit in edits:
        print(f"   at line {edit.range.start.line + 1}: {edit.new_text.rstrip()}")
    print()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
