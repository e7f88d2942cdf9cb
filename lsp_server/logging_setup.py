"""Logging goes to stderr or a file, never stdout: stdout carries the protocol."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "info", log_file: str | None = None) -> None:
    handler: logging.Handler
    if log_file:
        path = Path(log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
        # Native libraries write to descriptor 2 directly; send that to the log file too.
        stream = file_handler.stream
        if stream is not None:
            os.dup2(stream.fileno(), 2)
        handler = file_handler
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_level(level)


PINNED: list[str] = []  # the level given on the command line, which the configuration keeps


def set_level(level: str) -> None:
    """The log level, from the command line at start, else from the configuration ([log]
    level, or TREELLAMA_LOG_LEVEL) once it is read."""
    root = logging.getLogger()
    root.setLevel((PINNED[0] if PINNED else level).upper())
    # pygls logs every message body at INFO.
    logging.getLogger("pygls").setLevel(max(root.level, logging.WARNING))
