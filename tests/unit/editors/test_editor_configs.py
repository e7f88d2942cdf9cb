"""The editor configuration files we ship are well formed and name what the server serves."""

from __future__ import annotations

import json

from indexing.languages import EXTENSIONS
from tests.support.paths import ROOT

JETBRAINS = ROOT / "editors" / "jetbrains" / "treellama"


def test_lsp4ij_template_has_the_fields_lsp4ij_reads() -> None:
    template = json.loads((JETBRAINS / "template.json").read_text())
    assert template["id"] == "treellama" and template["name"] == "treellama"
    assert "treellama serve" in template["programArgs"]["default"]
    patterns = [p for m in template["fileTypeMappings"] for p in m["fileType"]["patterns"]]
    assert all(m["languageId"] for m in template["fileTypeMappings"])
    # Every pattern is a file type the index parses.
    assert {p.removeprefix("*") for p in patterns} <= set(EXTENSIONS)
    options = json.loads((JETBRAINS / "initializationOptions.json").read_text())
    assert set(options) == {"treellama"}
    json.loads((JETBRAINS / "settings.json").read_text())


def test_lsp4ij_initialization_options_are_valid_settings() -> None:
    from lsp_server.config import Config, apply_layer, editor_settings

    options = json.loads((JETBRAINS / "initializationOptions.json").read_text())
    config, problems = apply_layer(Config(), editor_settings(options), "editor settings")
    assert problems == [] and config.completion.max_lines == 8
    assert config.agent.approval_policy == "on-request"
