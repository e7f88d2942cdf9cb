"""The VS Code extension inside the real VS Code workbench: code-server 4.100.3 (VS Code 1.100,
its extension host and inline-suggestion UI) in headless Chromium, driven by Playwright.

The packaged `.vsix` (built by `make vscode`) is installed into a fresh code-server, which starts
`treellama serve` through the extension; the driver (editors/vscode/e2e/driver.mjs) opens a file,
waits for ghost text, accepts it with Tab, saves, and opens "Show what the model saw"; and it
starts an agent task (a scripted agent model), shows its steps, its diff, and applies it. Provided
by `make test` (tests/editors/install_code_server.sh); elsewhere it skips unless
TREELLAMA_REQUIRE_FIXTURES is set."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.servers import free_port, wait_until_serving
from inference.paths import cache_dir
from inference.stats import read_stats
from tests.support import screenshots, scripted_server
from tests.support.paths import ROOT
from tests.support.projects import make_repo, write_fix_add_script
from tests.support.requirements import requirement

EXTENSION = ROOT / "editors" / "vscode"
FIXTURE = ROOT / "tests" / "fixtures" / "sample_project" / "mathutils.py"
CODE_SERVER_VERSION = "4.100.3"

pytestmark = pytest.mark.editor


def run_vscode(
    tmp_path: Path,
    workspace: Path,
    scenario: str,
    *args: str,
    server: str = "",
    settings: dict | None = None,
    **env: str,
) -> dict:
    """Installs the packaged extension into a fresh code-server for `workspace`, runs the
    driver's `scenario` against it in headless Chromium, and returns what the driver saw.
    `server`: the extension's serverPath (default: the installed `treellama`); `settings`: more
    user settings."""
    install = cache_dir() / "code-server" / CODE_SERVER_VERSION
    code_server = requirement(install / "node_modules" / ".bin" / "code-server", "code-server")
    requirement(install / ".complete", "a finished code-server install")
    chromium = requirement(shutil.which("chromium"), "Chromium")
    vsix = requirement(EXTENSION / "treellama.vsix", "the packaged extension")
    requirement(EXTENSION / "node_modules" / "playwright-core", "playwright-core")

    user_data, extensions = tmp_path / "user-data", tmp_path / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps({
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False,
        "treellama.serverPath": server or str(Path(sys.executable).with_name("treellama")),
        "treellama.completion.maxTokens": 40,
        **(settings or {}),
    }))  # fmt: skip
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run([str(code_server), *common, "--install-extension", str(vsix)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [str(code_server), *common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
         "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
         str(workspace)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", server, "code-server", 60)
        result_file = tmp_path / "result.json"
        url = f"http://127.0.0.1:{port}/?folder={workspace}"
        driver = subprocess.run(
            ["node", str(EXTENSION / "e2e" / "driver.mjs"), scenario, url, str(result_file), *args],
            cwd=EXTENSION, env={**os.environ, "CHROMIUM": str(chromium)},
            capture_output=True, timeout=420,
        )  # fmt: skip
        assert result_file.exists(), driver.stderr.decode(errors="replace")[-3000:]
        result: dict = json.loads(result_file.read_text())
    finally:
        server.terminate()
        server.wait(30)
    assert "error" not in result, result  # the screenshot is beside result.json
    return result


def test_a_suggestion_is_shown_accepted_and_reported_in_vscode(tmp_path: Path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    source = workspace / "mathutils.py"
    shutil.copy(FIXTURE, source)
    stats = tmp_path / "stats.jsonl"
    result = run_vscode(tmp_path, workspace, "completion", str(source), "5", "5",
                        TREELLAMA_STATS_FILE=str(stats))  # fmt: skip
    assert result["ghostText"].strip(), result
    # Alt+] showed another of the suggestions (decoded side by side), Alt+[ the first again.
    whole = result["wholeGhostText"]
    assert result["nextGhostText"].strip() and result["nextGhostText"] != whole, result
    assert result["backGhostText"] == whole
    # Tab put the suggestion into the file, on the cursor's line.
    lines = source.read_text().split("\n")
    assert lines[4].strip(), lines[:8]
    assert "fim_prefix" in result["promptShown"]
    # The extension told the server what was shown and accepted (local statistics).
    kinds = {event.get("event") for event in read_stats(stats)}
    assert {"completion", "shown", "accepted"} <= kinds, kinds


def scripted_server_wrapper(tmp_path: Path, script: Path) -> Path:
    """An executable the extension runs as `<it> serve`: the real server with a scripted
    agent model (tests/support/scripted_server.py)."""
    wrapper = tmp_path / "treellama-scripted"
    command = " ".join(shlex.quote(part) for part in scripted_server.command(script)[:-1])
    wrapper.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def run_vscode_scripted(
    tmp_path: Path,
    scenario: str,
    *args: str,
    settings: dict | None = None,
    before: Callable[[Path], object] = lambda project: None,
) -> tuple[dict, Path]:
    """run_vscode on a fresh project (`{project}` in `args` names it; `before` adds to it),
    with the scripted agent model's server and no weights."""
    project = make_repo(tmp_path / "project")
    before(project)
    script = write_fix_add_script(tmp_path / "script.json")
    result = run_vscode(
        tmp_path,
        project,
        scenario,
        *[arg.format(project=project) for arg in args],
        server=str(scripted_server_wrapper(tmp_path, script)),
        settings=settings,
        TREELLAMA_CACHE_DIR=str(tmp_path / "empty-cache"),
    )
    return result, project


def test_an_agent_task_runs_is_reviewed_and_applied_in_vscode(tmp_path: Path):
    """With a screenshot attached from the agent view's "Attach image" (the workbench's own
    file dialog): the task shows it back, with what was read from it."""
    result, project = run_vscode_scripted(
        tmp_path, "agent", "{project}/calc.py", "{project}/shot.png",
        before=lambda project: (project / "shot.png").write_bytes(
            screenshots.terminal("E       assert -1 == 5\ntest_calc.py:5: AssertionError").image),
    )  # fmt: skip
    assert "shot.png will go with the next agent task" in result["attachedNote"], result
    assert "image: shot.png (" in result["agentView"], result
    assert "edit_file" in result["agentView"] and "run_tests" in result["agentView"], result
    assert "return a + b" in result["diffShown"].replace("\xa0", " "), result  # Monaco's spaces
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_open_in_browser_opens_the_web_page_with_its_token(tmp_path: Path):
    result, project = run_vscode_scripted(
        tmp_path, "browser", settings={"treellama.web.enabled": True}
    )
    # code-server reaches the server through its own /proxy/PORT/ (vscode.env.asExternalUri).
    assert "token=" in result["navigations"][0], result
    assert "token=" not in result["openedUrl"], result  # it became a cookie
    assert result["pageTitle"] == "treellama", result
    # The token let the page in, and its cookie its API calls: it names the workspace.
    assert "Tasks" in result["pageText"], result
    assert str(project) in result["info"], result
