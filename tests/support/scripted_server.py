"""The real language server, with a scripted agent model given through its constructor: for
tests of the agent's LSP and editor surface, where the model's words don't matter.

    python -m tests.support.scripted_server SCRIPT.json serve [serve options]

SCRIPT.json holds the replies (a JSON list of strings); it is read again when each task
starts, so a test may rewrite it between tasks.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

from agent.model import AgentModel, ScriptedAgentModel
from lsp_server.cli import main
from lsp_server.server import TreellamaServer

log = logging.getLogger(__name__)


def scripted_model_from(path: Path) -> Any:
    def make(cancel: threading.Event) -> AgentModel:
        return ScriptedAgentModel(json.loads(path.read_text(encoding="utf-8")))

    return make


def command(script: Path) -> list[str]:
    """The server command line (run from anywhere: it names the repository's root)."""
    return [sys.executable, str(Path(__file__)), str(script), "serve"]


if __name__ == "__main__":
    script = Path(sys.argv[1])
    log.warning("agent tasks use a SCRIPTED model from %s (a test server)", script)
    sys.exit(main(sys.argv[2:], lambda: TreellamaServer(scripted_model_from(script))))
