"""Running pytest with a plugin of ours, written into the task's copy for the run only."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

from agent.env.sandbox import Sandbox


def run_plugin(
    sandbox: Sandbox,
    root: Path,
    command: str,
    plugin: tuple[str, str],
    output_name: str,
    arguments: list[str],
    *,
    environment: dict[str, str] | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    confined: bool = True,
) -> str:
    """Runs the pytest `command` on `arguments` (test files or ids) with the plugin
    (`module`, `source`), and returns what it wrote to `output_name` in `root` ("" when
    nothing). The plugin, its output and its bytecode are gone afterwards: the task's copy
    is left as it was."""
    module, source = plugin
    plugin_file = root / f"{module}.py"
    output = root / output_name
    plugin_file.write_text(source, encoding="utf-8")
    output.unlink(missing_ok=True)
    variables = "".join(f"{k}={shlex.quote(v)} " for k, v in (environment or {}).items())
    quoted = " ".join(shlex.quote(a) for a in arguments)
    full = f"{variables}PYTHONPATH=.${{PYTHONPATH:+:$PYTHONPATH}} {command} -p {module} {quoted}"
    try:
        sandbox.run(full, timeout_s=timeout_s, confined=confined, cancel=cancel)
        return output.read_text(encoding="utf-8") if output.exists() else ""
    finally:
        plugin_file.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
        cache = root / "__pycache__"
        for compiled in cache.glob(f"{module}.*.pyc") if cache.is_dir() else ():
            compiled.unlink(missing_ok=True)
        if cache.is_dir() and not any(cache.iterdir()):
            cache.rmdir()
