from lsp_server.config import Config, load_config
from tests.support.paths import ROOT


def test_defaults_without_any_source(tmp_path):
    config, problems = load_config(workspace_root=tmp_path, editor=None, environ={})
    assert config == Config()
    assert problems == []


def test_precedence_file_then_editor_then_environment(tmp_path):
    (tmp_path / "treellama.toml").write_text(
        "[completion]\nmax_lines = 3\nmax_tokens = 10\nprefix_lines = 5\n"
    )
    editor = {"treellama": {"completion": {"maxTokens": 20, "prefixLines": 6}}}
    environ = {"TREELLAMA_COMPLETION_PREFIX_LINES": "7"}
    config, problems = load_config(workspace_root=tmp_path, editor=editor, environ=environ)
    assert problems == []
    assert config.completion.max_lines == 3  # file
    assert config.completion.max_tokens == 20  # editor beats file
    assert config.completion.prefix_lines == 7  # environment beats editor


def test_bad_values_fall_back_and_name_the_key(tmp_path):
    editor = {
        "completion": {"maxLines": "lots", "enabled": "maybe", "maxTokens": -3},
        "model": {"sha256": "not-a-hash", "nGpuLayers": True},
        "log": {"level": "loud"},
        "nonsense": {},
        "model_extra": 1,
    }
    config, problems = load_config(workspace_root=tmp_path, editor=editor, environ={})
    assert config == Config()
    keys = {problem.key for problem in problems}
    assert {
        "completion.maxLines",
        "completion.enabled",
        "completion.maxTokens",
        "model.sha256",
        "model.nGpuLayers",
        "log.level",
        "nonsense",
        "model_extra",
    } <= keys
    assert all(problem.source == "editor settings" for problem in problems)
    assert "using 8" in next(str(p) for p in problems if p.key == "completion.maxLines")


def test_unknown_setting_and_wrong_section_type(tmp_path):
    config, problems = load_config(
        editor={"completion": {"colour": "red"}, "model": "big"}, environ={}
    )
    assert config == Config()
    assert {p.key for p in problems} == {"completion.colour", "model"}


def test_unreadable_toml_is_reported_not_fatal(tmp_path):
    (tmp_path / "treellama.toml").write_text("[completion\nmax_lines = ")
    config, problems = load_config(workspace_root=tmp_path, environ={})
    assert config == Config()
    assert problems and problems[0].key == "treellama.toml"


def test_environment_strings_are_coerced():
    environ = {"TREELLAMA_COMPLETION_ENABLED": "false", "TREELLAMA_MODEL_N_CTX": "2048"}
    config, problems = load_config(environ=environ)
    assert problems == []
    assert config.completion.enabled is False
    assert config.model.n_ctx == 2048


def test_an_unknown_model_name_falls_back_to_the_default_model(tmp_path):
    # VS Code sends "" for a string setting the user never set.
    for name in ("", "gpt-99"):
        editor = {"treellama": {"model": {"name": name}}}
        config, problems = load_config(workspace_root=tmp_path, editor=editor, environ={})
        assert config.model == Config().model
        assert [problem.key for problem in problems] == ["model.name"]


def test_the_log_level_comes_from_the_configuration_unless_pinned(tmp_path, monkeypatch) -> None:
    import logging

    from lsp_server import logging_setup
    from lsp_server.session import Session

    (tmp_path / "treellama.toml").write_text('[log]\nlevel = "warning"\n')
    monkeypatch.delenv("TREELLAMA_LOG_LEVEL", raising=False)
    before = logging.getLogger().level
    session = Session(workspace_root=tmp_path)
    try:
        session.reload_config()
        assert logging.getLogger().level == logging.WARNING
        monkeypatch.setenv("TREELLAMA_LOG_LEVEL", "debug")
        session.reload_config()
        assert logging.getLogger().level == logging.DEBUG
        logging_setup.PINNED.append("error")  # treellama --log-level error
        session.reload_config()
        assert logging.getLogger().level == logging.ERROR
    finally:
        logging_setup.PINNED.clear()
        logging.getLogger().setLevel(before)


def test_the_configuration_reference_is_current() -> None:

    from lsp_server.config_docs import render

    reference = ROOT / "docs" / "configuration.md"
    assert reference.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: python -m lsp_server.config_docs > docs/configuration.md"
    )
