"""The request snapshot: what it holds, that it does not follow later edits, and the rule that
nothing off the event loop reads live server state (checked on the source)."""

from __future__ import annotations

import ast
import asyncio
import threading
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace import Workspace

from indexing.navigation import Place
from lsp_server.client_features import ClientFeatures
from lsp_server.navigation import locations
from lsp_server.positions import PositionEncoding
from lsp_server.server import TreellamaServer
from lsp_server.session import UnknownDocumentError
from lsp_server.snapshot import background_request, take_snapshot
from tests.support.paths import ROOT


def initialized(root: Path) -> TreellamaServer:
    server = TreellamaServer()
    server.protocol._workspace = Workspace(root.as_uri())  # what initialize would set up
    return server


def open_document(server: TreellamaServer, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    server.workspace.put_text_document(types.TextDocumentItem(uri, "python", version, text))
    return uri


def edit_document(server: TreellamaServer, uri: str, text: str, version: int) -> None:
    server.workspace.update_text_document(
        types.VersionedTextDocumentIdentifier(version=version, uri=uri),
        types.TextDocumentContentChangeWholeDocument(text),
    )


def test_a_snapshot_holds_the_request_state_and_ignores_later_edits(tmp_path):
    server = initialized(tmp_path)
    server.session.client = ClientFeatures(position_encoding=PositionEncoding.UTF8)
    server.session.workspace_root = tmp_path
    path = tmp_path / "shop.py"
    path.write_text("on disk\n")
    uri = open_document(server, path, "größe = 1\nprice = größe\n", version=3)
    (tmp_path / "other.py").write_text("other = 2\n")
    snapshot = take_snapshot(server, uri)
    assert snapshot.document is not None and snapshot.document.version == 3
    assert snapshot.encoding is PositionEncoding.UTF8
    assert snapshot.workspace_root == tmp_path and snapshot.config is server.session.config
    assert snapshot.worker is server.worker and snapshot.code_index is None
    assert snapshot.model_parameters is None  # no model loaded

    edit_document(server, uri, "x = 1\n", version=4)
    assert snapshot.document.text == "größe = 1\nprice = größe\n"
    assert snapshot.documents.text_of(path) == ("größe = 1\nprice = größe\n", 3)
    assert snapshot.documents.text_of(tmp_path / "other.py") == ("other = 2\n", None)
    assert snapshot.documents.text_of(tmp_path / "missing.py") == (None, None)
    (tmp_path / "latin1.py").write_bytes(b"caf\xe9\n")
    assert snapshot.documents.text_of(tmp_path / "latin1.py", strict=True) == (None, None)

    # Positions are read against the snapshot's text, in the client's encoding, even though
    # the live buffer has moved on: `price = größe`, the second `größe` at bytes 8..15.
    start = len(b"price = ")
    end = start + len("größe".encode())
    (location,) = locations(snapshot, [Place(path, 1, start, end)])
    assert (location.range.start.character, location.range.end.character) == (8, 15)

    with pytest.raises(UnknownDocumentError):
        take_snapshot(server, (tmp_path / "never-opened.py").as_uri())


def test_a_background_request_runs_off_the_loop_on_its_snapshot(tmp_path):
    server = initialized(tmp_path)
    registered: dict = {}

    class Recorder:
        def feature(self, method, options=None):
            def keep(handler):
                registered[method] = handler
                return handler

            return keep

    seen: dict = {}

    @background_request(Recorder(), types.TEXT_DOCUMENT_DEFINITION)  # type: ignore[arg-type]
    def definition(snapshot, params):
        seen["thread"] = threading.get_ident()
        seen["text"] = snapshot.document.text
        return "answer"

    uri = open_document(server, tmp_path / "a.py", "a = 1\n")
    params = types.DefinitionParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))

    async def scenario():
        seen["loop"] = threading.get_ident()
        return await registered[types.TEXT_DOCUMENT_DEFINITION](server, params)

    assert asyncio.run(scenario()) == "answer"
    assert seen["text"] == "a = 1\n" and seen["thread"] != seen["loop"]


LIVE_STATE = {"ls", "self.ls", "server"}


def _names(node: ast.AST) -> set[str]:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
            found.add(f"{child.value.id}.{child.attr}")
    return found


def test_no_code_sent_off_the_loop_is_handed_live_server_state():
    """Every asyncio.to_thread call in the language server passes snapshots and services, not
    the server: a function that got `ls` could read ls.session or ls.workspace from a thread.
    Functions registered with background_request take (snapshot, params)."""
    offenders = []
    for path in sorted((ROOT / "lsp_server").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "asyncio.to_thread":
                handed = set().union(*(_names(arg) for arg in node.args)) if node.args else set()
                if handed & LIVE_STATE:
                    offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if "background_request" in ast.unparse(decorator):
                        first = node.args.args[0].arg if node.args.args else ""
                        if first != "snapshot":
                            offenders.append(f"{path.name}:{node.lineno}: {node.name}({first})")
    assert offenders == []
