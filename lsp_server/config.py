"""One typed configuration, parsed from layered sources with per-key fallback.

Precedence, lowest first: built-in defaults, `treellama.toml` at the workspace root, the
editor's settings (initializationOptions, then workspace/didChangeConfiguration), and last
`TREELLAMA_<SECTION>_<KEY>` environment variables, since those are set for one run on purpose.
A bad value never aborts parsing: that key keeps its previous value and a ConfigProblem names it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from agent.settings import AgentSettings
from indexing.settings import IndexSettings
from inference.settings import BackendSettings, CompletionSettings, ModelSettings, PathSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "treellama.toml"
ENV_PREFIX = "TREELLAMA_"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class LogSettings:
    level: str = field(default="info", metadata={"choices": LOG_LEVELS})


@dataclass(frozen=True)
class WebSettings:
    # Serve the web page and the HTTP API from inside the language server, sharing its agent
    # tasks and its model (`treellama web` runs the same without an editor).
    enabled: bool = False
    # Loopback by default; any other address is reachable from other machines (with a warning).
    host: str = "127.0.0.1"
    # 0 picks a free port; the URL with its token is logged and shown in treellama.status.
    port: int = field(default=0, metadata={"min": 0, "max": 65535})
    # Origins of other pages allowed to call the API from a browser (CORS), such as
    # "https://my-proxy.example:8443"; none by default. The page itself needs none.
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)
    log: LogSettings = field(default_factory=LogSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    web: WebSettings = field(default_factory=WebSettings)


@dataclass(frozen=True)
class ConfigProblem:
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} ({self.source}): {self.message}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(value: Any, kind: type, meta: Mapping[str, Any]) -> Any:
    """Returns the value as `kind`, or raises ValueError with a message for the user."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError(f"expected an integer, got {value!r}") from None
        if not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"expected an integer from {low} to {high}, got {value}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        pattern = meta.get("pattern")
        if pattern and not re.match(pattern, value):
            raise ValueError(f"{value!r} is not in the expected format")
        return value
    if kind == tuple[str, ...]:
        if isinstance(value, str):  # from the environment: comma-separated
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of strings, got {value!r}")
        return tuple(value)
    raise TypeError(f"unsupported setting type {kind}")  # a programming error, not user input


def _apply_section(section: Any, name: str, raw: Any, source: str, problems: list) -> Any:
    if not isinstance(raw, Mapping):
        problems.append(ConfigProblem(source, name, f"expected a table, got {raw!r}"))
        return section
    hints = get_type_hints(type(section))
    fields = {f.name: f for f in dataclasses.fields(section)}
    updates: dict[str, Any] = {}
    for key, value in raw.items():
        wire_key = _snake(key)
        if wire_key not in fields:
            problems.append(ConfigProblem(source, f"{name}.{key}", "unknown setting, ignored"))
            continue
        try:
            updates[wire_key] = _coerce(value, hints[wire_key], fields[wire_key].metadata)
        except ValueError as exc:
            current = getattr(section, wire_key)
            problems.append(ConfigProblem(source, f"{name}.{key}", f"{exc}; using {current!r}"))
    return dataclasses.replace(section, **updates)


def _snake(key: str) -> str:
    """Editors send camelCase (maxLines); the TOML file and our fields use snake_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def apply_layer(
    config: Config, raw: Mapping[str, Any], source: str
) -> tuple[Config, list[ConfigProblem]]:
    problems: list[ConfigProblem] = []
    sections = {f.name for f in dataclasses.fields(config)}
    updates: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(key)
        if name not in sections:
            problems.append(ConfigProblem(source, key, "unknown section, ignored"))
            continue
        updates[name] = _apply_section(getattr(config, name), name, value, source, problems)
    return dataclasses.replace(config, **updates), problems


def editor_settings(raw: Any) -> Mapping[str, Any]:
    """Editors nest our settings under "treellama" (VS Code) or send them bare."""
    if not isinstance(raw, Mapping):
        return {}
    if "treellama" not in raw:
        return raw
    inner = raw["treellama"]
    # Lua encodes an empty table as [], so Neovim's "no settings" arrives as {"treellama": []}.
    return inner if isinstance(inner, Mapping) else {}


def environment_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    layer: dict[str, dict[str, str]] = {}
    for section in dataclasses.fields(Config):
        for setting in dataclasses.fields(getattr(Config(), section.name)):
            # A setting may also answer to a shorter, older name (TREELLAMA_CACHE_DIR).
            names = (f"{ENV_PREFIX}{section.name}_{setting.name}".upper(),
                     setting.metadata.get("env", ""))  # fmt: skip
            for var in names:
                if var and var in environ:
                    layer.setdefault(section.name, {})[setting.name] = environ[var]
                    break
    return layer


def read_config_file(workspace_root: Path | None) -> tuple[dict[str, Any], list[ConfigProblem]]:
    if workspace_root is None:
        return {}, []
    path = workspace_root / CONFIG_FILE
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), []
    except FileNotFoundError:
        return {}, []
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return {}, [ConfigProblem(str(path), CONFIG_FILE, f"cannot be read ({exc}); ignored")]


def load_config(
    *,
    workspace_root: Path | None = None,
    editor: Any = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Config, list[ConfigProblem]]:
    """Builds the configuration from every source, in precedence order."""
    environ = os.environ if environ is None else environ
    file_layer, problems = read_config_file(workspace_root)
    config = Config()
    layers = [
        (file_layer, CONFIG_FILE),
        (editor_settings(editor), "editor settings"),
        (environment_layer(environ), "environment"),
    ]
    for raw, source in layers:
        config, found = apply_layer(config, raw, source)
        problems.extend(found)
    return config, problems
