"""treellama's web page in headless Chromium (playwright-core, as the VS Code test uses),
against the real standalone web server with a scripted agent model (its words don't matter
here): start a task, watch its steps arrive live, read the diff, apply it, check the file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent.settings import AgentSettings
from lsp_server.config import Config
from lsp_server.web.core import WebCore
from lsp_server.web.server import WebServer, standalone_core
from tests.support import screenshots
from tests.support.paths import ROOT
from tests.support.projects import make_repo, write_fix_add_script
from tests.support.requirements import requirement
from tests.support.scripted_server import scripted_model_from

PLAYWRIGHT = ROOT / "editors" / "vscode" / "node_modules" / "playwright-core"
VENDOR = ROOT / "lsp_server" / "web" / "static" / "vendor"

pytestmark = pytest.mark.editor


def run_page_driver(core: WebCore, chromium: Path, driver: str, result_file: Path,
                    *args: str) -> dict:  # fmt: skip
    """Serves `core` on loopback, runs a page driver in headless Chromium against it, and
    returns what the driver saw, with the tasks' states once it is done."""
    server = WebServer(core)
    server.start_in_thread()
    try:
        done = subprocess.run(
            ["node", str(ROOT / "tests" / "editors" / driver), server.url, str(result_file),
             *args],
            env={**os.environ, "CHROMIUM": str(chromium),
                 "PLAYWRIGHT_FROM": str(PLAYWRIGHT / "package.json")},
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        tasks = [state.public() for state in core.manager.list()]
    finally:
        server.stop()
        core.manager.close()
    assert result_file.exists(), done.stderr[-3000:]
    result = json.loads(result_file.read_text())
    assert done.returncode == 0, (done.stderr[-3000:], result)
    return {**result, "tasks": tasks}


def test_a_task_is_started_watched_reviewed_and_applied_in_the_page(tmp_path: Path) -> None:
    chromium = requirement(shutil.which("chromium"), "Chromium")
    requirement(PLAYWRIGHT, "playwright-core")
    requirement(
        VENDOR / "diff2html-ui-slim.min.js", "the page's vendored diff2html (make web-assets)"
    )
    repo = make_repo(tmp_path / "project")
    script = write_fix_add_script(tmp_path / "script.json")
    shot = tmp_path / "shot.png"  # outside the project: the page sends its bytes, not a path
    shot.write_bytes(
        screenshots.terminal("E       assert -1 == 5\ntest_calc.py:5: AssertionError").image
    )
    core, _ = standalone_core(repo, Config(), model_for=scripted_model_from(script))
    result = run_page_driver(core, chromium, "web_page_driver.mjs", tmp_path / "page.json",
                             str(repo / "calc.py"), str(shot))  # fmt: skip
    assert "token=" not in result["url"]
    assert "tool_call" in result["steps"] and result["steps"][-1] == "done", result["steps"]
    # Dropped and pasted, sent with the task, shown back with what was read from them.
    assert [a.split(" (")[0] for a in result["attached"]] == ["dropped.png", "pasted.png"]
    assert len(result["imageSteps"]) == 2, result["imageSteps"]
    assert (
        "dropped.png" in result["imageSteps"][0] and "lines of text read" in result["imageSteps"][0]
    )
    assert "test_calc.py:5: AssertionError" in result["imageSteps"][0]
    # diff2html's side-by-side view, highlighted by highlight.js (both vendored from npm).
    assert result["sides"] == 2, result
    assert any("return a - b" in cell for cell in result["removed"]), result
    assert any("return a + b" in cell for cell in result["added"]), result
    assert "return" in result["highlighted"], result
    assert "edit_file" in result["log"]
    assert result["dialogs"] and "Apply" in result["dialogs"][0]
    assert result["after"] == "def add(a, b):\n    return a + b\n"
    assert (tmp_path / "page.png").stat().st_size > 1000


def test_a_command_that_needs_approval_is_asked_and_allowed_in_the_page(tmp_path: Path) -> None:
    chromium = requirement(shutil.which("chromium"), "Chromium")
    requirement(PLAYWRIGHT, "playwright-core")
    repo = make_repo(tmp_path / "project")
    script = tmp_path / "script.json"
    calls = [{"tool": "run_command", "args": {"command": "touch made-by-the-agent.txt"}},
             {"tool": "finish", "args": {"summary": "touched"}}]  # fmt: skip
    script.write_text(json.dumps([json.dumps({"thought": "", **c}) for c in calls]))
    config = Config(agent=AgentSettings(approval_policy="untrusted", strategy="loop"))
    core, _ = standalone_core(repo, config, model_for=scripted_model_from(script))
    result = run_page_driver(core, chromium, "web_approval_driver.mjs", tmp_path / "a.json")
    assert "touch made-by-the-agent.txt" in result["question"], result
    assert result["focused"] == "approve-once" and result["approvalHidden"] is True
    assert "approval" in result["steps"] and result["steps"][-1] == "done", result
    assert result["tasks"][0]["files"] == ["made-by-the-agent.txt"]


def test_a_new_page_says_what_will_appear_and_the_charts_have_axes_and_units(
    tmp_path: Path,
) -> None:
    """Before any task or completion, every section says what will appear there and how to
    make it appear (no empty box labelled 1970-01-01); with completions recorded, the charts
    have titled axes with units, and the latency histogram marks its p50 and p95."""
    chromium = requirement(shutil.which("chromium"), "Chromium")
    requirement(PLAYWRIGHT, "playwright-core")
    requirement(VENDOR / "chart.umd.min.js", "the page's vendored Chart.js (make web-assets)")
    repo = make_repo(tmp_path / "project")
    stats = tmp_path / "stats.jsonl"
    core, _ = standalone_core(repo, Config())
    core.stats_file = str(stats)
    fresh = run_page_driver(core, chromium, "web_charts_driver.mjs", tmp_path / "fresh.json")
    assert fresh["errors"] == []
    empty = " | ".join(fresh["empty"])
    assert "No tasks yet. Describe a change above and press Start task" in empty
    assert "No completions yet. Type in your editor with treellama running" in empty
    assert "Pick a task on the left, or start one" in empty
    assert fresh["captions"] == [] and fresh["charts"] == {"acceptance": None, "latency": None}
    assert (tmp_path / "fresh.png").stat().st_size > 1000

    now = time.time()
    records = [{"event": "completion", "id": f"c{i}", "latency_ms": 80.0 + 40 * i, "t": now}
               for i in range(20)]  # fmt: skip
    records += [{"event": "shown", "id": f"c{i}", "t": now} for i in range(10)]
    records += [{"event": "accepted", "id": f"c{i}", "t": now} for i in range(4)]
    stats.write_text("".join(json.dumps(r) + "\n" for r in records))
    core, _ = standalone_core(repo, Config())
    core.stats_file = str(stats)
    shown = run_page_driver(core, chromium, "web_charts_driver.mjs", tmp_path / "charts.json")
    assert shown["errors"] == []
    assert not any("No completions yet" in text for text in shown["empty"])
    acceptance, latency = shown["charts"]["acceptance"], shown["charts"]["latency"]
    assert acceptance["axes"]["y"]["title"] == "accepted (% of shown)"
    assert acceptance["axes"]["x"]["title"] == "day"
    assert "100%" in acceptance["axes"]["y"]["ticks"] and acceptance["data"] == [40]
    assert acceptance["labels"] == [time.strftime("%Y-%m-%d", time.localtime(now))]
    assert latency["axes"]["x"]["title"] == "latency (ms)"
    assert latency["axes"]["y"]["title"] == "suggestions"
    assert latency["labels"][0] == "0–100" and sum(latency["data"]) == 20
    assert sorted(latency["marks"]) == ["p50 480 ms", "p95 800 ms"], latency["marks"]
    assert "Latency of 20 suggestions: p50 480 ms, p95 800 ms" in shown["captions"]
    assert "4 of 10 suggestions shown were accepted (40%)" in " ".join(shown["captions"])
    assert (tmp_path / "charts.png").stat().st_size > 1000
