"""Routes llama.cpp's native log into Python logging.

llama-cpp-python's own callback prints to stderr, and turning `verbose` off makes it dup2() the
process's stdout and stderr to /dev/null while it loads and runs, which in a stdio server
swallows protocol messages written meanwhile. So we keep `verbose=True` and send the native
log to the "llama.cpp" logger, where the user's log level and destination apply.
"""

from __future__ import annotations

import ctypes
import io
import logging

log = logging.getLogger("llama.cpp")

# ggml_log_level: NONE=0, DEBUG=1, INFO=2, WARN=3, ERROR=4, CONT=5 (continues the last line).
# (llama-cpp-python's own _logger.py comment has the older numbering.) llama.cpp's INFO is
# chatty loader output, so it lands at DEBUG here.
_LEVELS = {
    0: logging.DEBUG,
    1: logging.DEBUG,
    2: logging.DEBUG,
    3: logging.WARNING,
    4: logging.ERROR,
}
_callback_ref = None  # ctypes callbacks must outlive every call from C
_last_level = logging.DEBUG


def install() -> None:
    global _callback_ref
    if _callback_ref is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        global _last_level
        python_level = _LEVELS.get(level, _last_level)
        _last_level = python_level
        message = text.decode("utf-8", errors="replace").rstrip()
        if message and message != "." and log.isEnabledFor(python_level):
            log.log(python_level, "%s", message)

    _callback_ref = _forward
    llama_cpp.llama_log_set(_forward, ctypes.c_void_p(0))


class LogWriter(io.TextIOBase):
    """A text stream that sends each line written to it to a logger at DEBUG."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self._logger.debug("%s", line)
        return len(text)
