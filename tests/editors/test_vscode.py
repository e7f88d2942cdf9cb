"""The VS Code extension inside the real VS Code workbench: code-server 4.100.3 (VS Code 1.100,
its extension host and inline-suggestion UI) in headless Chromium, driven by Playwright.

The packaged `.vsix` (built by `make vscode`) is installed into a fresh code-server, which starts
`treellama serve` through the extension; the driver (editors/vscode/e2e/driver.mjs) opens a file,
waits for ghost text, accepts it with Tab, saves, and opens "Show what the model saw". Provided
by `make test` (tests/editors/install_code_server.sh); elsewhere it skips unless
TREELLAMA_REQUIRE_FIXTURES is set."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from inference.paths import cache_dir
from inference.stats import read_stats

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
FIXTURE = ROOT / "tests" / "fixtures" / "sample_project" / "mathutils.py"
CODE_SERVER_VERSION = "4.100.3"

pytestmark = pytest.mark.editor


def requirement(found: Path | str | None, what: str) -> Path:
    if found is None or not Path(found).exists():
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail(f"{what} is missing: run `make test` (or `make vscode code-server`)")
        pytest.skip(f"{what} is not installed (make code-server)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_extension_shows_accepts_and_reports_a_suggestion_in_vscode(tmp_path: Path):
    install = cache_dir() / "code-server" / CODE_SERVER_VERSION
    code_server = requirement(install / "node_modules" / ".bin" / "code-server", "code-server")
    requirement(install / ".complete", "a finished code-server install")
    chromium = requirement(shutil.which("chromium"), "Chromium")
    vsix = requirement(EXTENSION / "treellama.vsix", "the packaged extension")
    requirement(EXTENSION / "node_modules" / "playwright-core", "playwright-core")

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    source = workspace / "mathutils.py"
    shutil.copy(FIXTURE, source)
    user_data, extensions = tmp_path / "user-data", tmp_path / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps({
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False,
        "treellama.serverPath": str(Path(sys.executable).with_name("treellama")),
        "treellama.completion.maxTokens": 40,
    }))  # fmt: skip
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run([str(code_server), *common, "--install-extension", str(vsix)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip

    stats = tmp_path / "stats.jsonl"
    port = free_port()
    server = subprocess.Popen(
        [str(code_server), *common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
         "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
         str(workspace)],
        env={**os.environ, "TREELLAMA_STATS_FILE": str(stats)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/?folder={workspace}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no code-server"
                time.sleep(0.5)
        result_file = tmp_path / "result.json"
        driver = subprocess.run(
            ["node", str(EXTENSION / "e2e" / "driver.mjs"), url, source.name, "5", "5",
             str(result_file)],
            cwd=EXTENSION, env={**os.environ, "CHROMIUM": str(chromium)},
            capture_output=True, timeout=420,
        )  # fmt: skip
        assert result_file.exists(), driver.stderr.decode(errors="replace")[-3000:]
        result = json.loads(result_file.read_text())
    finally:
        server.terminate()
        server.wait(30)

    assert "error" not in result, result
    assert result["ghostText"].strip(), result
    # Tab put the suggestion into the file, under the cursor's line.
    lines = source.read_text().split("\n")
    assert lines[4].strip() and lines[4] != "    ", lines[:8]
    assert "fim_prefix" in result["promptShown"]
    # The extension told the server what was shown and accepted (local statistics).
    events = read_stats(stats)
    kinds = {event.get("event") for event in events}
    assert {"completion", "shown", "accepted"} <= kinds, kinds
