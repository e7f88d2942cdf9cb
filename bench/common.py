"""Shared pieces of the benchmarks: an LSP session over stdio, a loopback llama_cpp.server,
percentiles. Every benchmark measures its baseline in the same run and prints ratios."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from inference.model_manager import resolve_model
from inference.settings import ModelSettings

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 2),
        "p95": round(percentile(values, 0.95), 2),
        "mean": round(statistics.fmean(values), 2) if values else float("nan"),
    }


def model_path(name: str) -> Path:
    return resolve_model(ModelSettings(name=name)).path


def start_worker(model: str, n_ctx: int = 4096) -> Any:
    """A model worker that owns the named model, loaded in this process."""
    from inference.engine import LlamaEngine
    from inference.worker import ModelWorker, Priority

    worker = ModelWorker()
    engine = worker.submit(
        lambda _, __: LlamaEngine(model_path(model), ModelSettings(n_ctx=n_ctx)), Priority.LOAD
    ).result()
    worker.submit(lambda _, __: worker.set_engine(engine), Priority.LOAD).result()
    return worker


def save(name: str, data: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


class LspSession:
    """`treellama serve` over stdio, driven by pygls' client, as an editor would."""

    def __init__(self, env: dict[str, str] | None = None, options: Any = None) -> None:
        self.env = {**os.environ, **(env or {})}
        self.options = options
        self.client = LanguageClient("treellama-bench", "0")
        for method in (types.WINDOW_SHOW_MESSAGE, types.WINDOW_LOG_MESSAGE, types.PROGRESS,
                       types.WINDOW_WORK_DONE_PROGRESS_CREATE):  # fmt: skip
            self.client.feature(method)(lambda params: None)
        self.version: dict[str, int] = {}

    async def start(self, root: Path) -> None:
        await self.client.start_io(
            sys.executable, "-m", "lsp_server", "--log-level", "warning", "serve", env=self.env
        )
        capabilities = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities()
            )
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
                initialization_options=self.options,
            )
        )
        self.client.initialized(types.InitializedParams())
        while (await self.command("treellama.status"))["model"]["state"] == "loading":
            time.sleep(0.05)

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.version[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
        )

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        self.version[uri] += 1
        here = types.Position(line, character)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version[uri], uri=uri),
                [types.TextDocumentContentChangePartial(types.Range(here, here), text)],
            )
        )

    def delete(self, uri: str, line: int, start: int, end: int) -> None:
        self.version[uri] += 1
        where = types.Range(types.Position(line, start), types.Position(line, end))
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version[uri], uri=uri),
                [types.TextDocumentContentChangePartial(where, "")],
            )
        )

    def rest(self, uri: str, line: int, character: int) -> None:
        """What the editor plugins send when the cursor has stayed put a moment."""
        self.client.protocol.notify(
            "treellama/didRestCursor",
            {"uri": uri, "position": {"line": line, "character": character}},
        )

    async def complete_all(
        self, uri: str, line: int, character: int, invoked: bool = False
    ) -> tuple[list[str], float]:
        """Every suggestion: one while typing (automatic), several when asked (invoked)."""
        kind = types.InlineCompletionTriggerKind
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(kind.Invoked if invoked else kind.Automatic),
        )
        started = time.perf_counter()
        result = await self.client.text_document_inline_completion_async(params)
        elapsed = (time.perf_counter() - started) * 1000
        items = result.items if result else []
        return [str(item.insert_text) for item in items], elapsed

    async def complete(self, uri: str, line: int, character: int) -> tuple[str, float]:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
        )
        started = time.perf_counter()
        result = await self.client.text_document_inline_completion_async(params)
        elapsed = (time.perf_counter() - started) * 1000
        text = result.items[0].insert_text if result and result.items else ""
        return str(text), elapsed

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def post_json(url: str, payload: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
