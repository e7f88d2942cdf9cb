"""Starting the real `treellama serve` over stdio with real editors' client capabilities, and
waiting on it: the helpers behind the e2e fixtures, for tests of any tier."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.support.paths import FIXTURES

SERVER = [sys.executable, "-m", "lsp_server", "serve"]
SAMPLE = FIXTURES / "sample_project"
SHORT = {"TREELLAMA_COMPLETION_MAX_TOKENS": "40", "TREELLAMA_LOG_LEVEL": "info"}
EMPTY_CACHE = tempfile.mkdtemp(prefix="treellama-empty-cache-")
# A writable copy of the multi-file project, so tests may change files on disk.
INDEX_PROJECT = Path(tempfile.mkdtemp(prefix="treellama-index-project-")) / "index_project"
shutil.copytree(FIXTURES / "index_project", INDEX_PROJECT)


def editor_capabilities(editor: str) -> types.ClientCapabilities:
    caps = client_capabilities(editor)
    if editor == "visual_studio_code":
        # The recorded VS Code predates LSP 3.18; current VS Code asks for inline completion.
        assert caps.text_document is not None
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps


def initialize_params(
    editor: str, options: object = None, root: Path = SAMPLE
) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=editor_capabilities(editor),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
        initialization_options=options,
    )


def server_config(command: list[str] | None = None, **env: str) -> ClientServerConfig:
    """`command`: another way to start the real server (tests.support.scripted_server)."""
    return ClientServerConfig(
        server_command=command or SERVER, server_env={**os.environ, **SHORT, **env}
    )


def open_document(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 1, path.read_text() if text is None else text)
        )
    )
    return uri


async def wait_for_model(client: LanguageClient, timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        if status["model"]["state"] not in ("loading", "not_loaded"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(status)
        await asyncio.sleep(0.1)


async def wait_for_index(client: LanguageClient, timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        index = status["index"]
        if index["state"] == "ready" and index["files"] is not None:
            return index
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(status)
        await asyncio.sleep(0.05)


async def wait_for_messages(
    client: LanguageClient, kind: types.MessageType, timeout: float = 30
) -> list[str]:
    """The window/showMessage texts of this kind, once at least one has arrived."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [m.message for m in client.messages if m.type == kind]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)
