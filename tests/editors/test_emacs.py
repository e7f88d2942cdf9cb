"""Emacs with eglot, configured as editors/README.md says, against the real server and model:
definition across files through xref, code actions, and completion at point.

Emacs 28 from Debian with its elpa-eglot package (eglot is built into Emacs 29 and later);
`make test` installs both where it can (`make emacs`). Elsewhere the test skips unless
TREELLAMA_REQUIRE_FIXTURES is set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.projects import git

DRIVER = Path(__file__).with_name("emacs_eglot.el")

pytestmark = pytest.mark.editor


def test_eglot_navigates_lists_code_actions_and_completes(tmp_path: Path):
    emacs = shutil.which("emacs")
    if emacs is None:
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail("emacs is missing: run `make emacs`")
        pytest.skip("emacs is not installed (make emacs)")
    project = tmp_path / "index_project"
    shutil.copytree(ROOT / "tests" / "fixtures" / "index_project", project)
    git(project, "init", "-q")  # project.el finds the project root by its VCS
    result_file = tmp_path / "result.json"
    done = subprocess.run(
        [emacs, "--batch", "-q", "-l", str(DRIVER)],
        env={
            **os.environ,
            "TREELLAMA_SERVER_CMD": f"{sys.executable} -m lsp_server serve",
            "TREELLAMA_TEST_FILE": str(project / "shop" / "cart.py"),
            "TREELLAMA_TEST_RESULT": str(result_file),
            "TREELLAMA_COMPLETION_MAX_TOKENS": "24",
        },
        cwd=project,
        capture_output=True,
        timeout=240,
    )
    assert result_file.exists(), done.stderr.decode(errors="replace")[-3000:]
    result = json.loads(result_file.read_text())
    assert "error" not in result, (result, done.stderr.decode(errors="replace")[-2000:])
    assert result["connected"] is True
    assert any(d.endswith("shop/pricing.py:6") for d in result["definitions"]), result  # 1-based
    assert any("docstring" in title.lower() for title in result["actions"]), result
    assert result["completions"] and any(item.strip() for item in result["completions"]), result
