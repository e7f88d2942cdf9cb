"""Instructions that give the agent nothing to act on get a question back, not a task.

`treellama agent log` without its id once started a six-minute task whose instruction was
"log": the model loaded, the tests ran, thirty candidates were judged against the user's code.
One word that names no file, symbol, test or error of the project cannot say what to change;
the pipeline would only guess from the failing tests. Longer instructions always run: what they
mean is for the pipeline to find out, not for a rule here.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from agent.env.worktree import files_under
from indexing.languages import language_for

MAX_FILES = 5000  # source files read to look for a definition of the word
MAX_BYTES = 256 << 10
ERROR_WORD = re.compile(r"(?i)^\w*(error|exception|warning|fault|panic)$|^[A-Z]{1,4}\d{2,5}$")
DEFINES = r"\b(def|class|function|fn|func|struct|enum|trait|interface|type|const|let|var|impl)"


def question_for(instruction: str, workspace: Path) -> str | None:
    """The question to ask back when the instruction is one word naming nothing in the
    project; None when there is something to act on."""
    words = instruction.split()
    if len(words) != 1:
        return None
    word = words[0].strip("`'\".,:;!?()")
    if not word or _names_something(word, workspace):
        return None
    return (
        f'What should the agent do? "{word}" names no file, symbol, test or error in this '
        'project, so no task was started. Say what to change, for example "make the failing '
        'test in tests/test_cart.py pass" or "fix the ZeroDivisionError in apply_discount".'
    )


def _names_something(word: str, workspace: Path) -> bool:
    if ERROR_WORD.match(word) or "test" in word.lower() or "/" in word or "\\" in word:
        return True
    lowered = word.lower()
    files = sorted(files_under(workspace))
    for relative in files:
        path = PurePosixPath(relative)
        if lowered in (path.name.lower(), path.stem.lower()):
            return True
    definition = re.compile(rf"{DEFINES}\s+{re.escape(word)}\b|^\s*{re.escape(word)}\s*=", re.M)
    sources = [f for f in files if language_for(None, f) is not None][:MAX_FILES]
    for relative in sources:
        try:
            with (workspace / relative).open("rb") as handle:
                text = handle.read(MAX_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        if definition.search(text):
            return True
    return False
