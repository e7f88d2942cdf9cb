"""The agent's tools: what each call does in the task's isolated copy.

Every result is text for the model, redacted of secrets and capped in size. A tool never
raises for a bad argument or a failed command: the model reads what went wrong and tries
again. Edits go through the safe edit pipeline (agent.editing.edits); commands through the approval
rules and the sandbox.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agent.approvals import (
    ApprovalRequest,
    ApprovalRules,
    Approver,
    Decision,
    Verdict,
    command_prefix,
)
from agent.editing.edits import EditRejected, validate
from agent.env.sandbox import CommandResult, Sandbox
from agent.env.suite_discovery import detect_test_command
from agent.env.test_files import is_test_path
from agent.env.worktree import TaskTree, files_under
from agent.loop.text_replace import (
    PROTECTED,
    _loose_replace,
    did_you_mean,
)  # fmt: skip
from agent.safety import redact, secret_path
from indexing.languages import language_for

MAX_RESULT_CHARS = 6000
READ_LINES = 250
LIST_LIMIT = 300
SEARCH_LIMIT = 30
SHOW_LINES = 15


class Submitted(Exception):
    """The model called `finish`: the task is done."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


class CodeSearch(Protocol):
    """What the code index offers the agent (indexing.retrieval.Retriever fits)."""

    def search_code(self, query: str, limit: int = 10) -> list[Any]: ...

    def find_symbol(self, query: str, limit: int = 20) -> list[Any]: ...


@dataclass(frozen=True)
class ToolResult:
    text: str
    ok: bool = True
    changed_files: tuple[str, ...] = ()


@dataclass
class ToolContext:
    task_id: str
    tree: TaskTree
    sandbox: Sandbox
    rules: ApprovalRules
    approver: Approver
    test_command: str = ""
    index: CodeSearch | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    on_approval: Callable[[ApprovalRequest, Decision], None] = lambda request, decision: None
    # False: existing test files may not be edited (the task does not ask for test changes).
    tests_editable: bool = True

    @property
    def root(self) -> Path:
        return self.tree.root


def _cap(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    text = redact(text)
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}\n[... {len(text) - 2 * keep} characters left out ...]\n{text[-keep:]}"


def _resolve(context: ToolContext, relative: str) -> Path:
    """A path inside the task's copy; anything that escapes it is refused."""
    path = (context.root / relative.strip()).resolve()  # an absolute path replaces the root
    root = context.root.resolve()
    if path != root and root not in path.parents:
        raise ValueError(f"{relative!r} is outside the project")
    return path


def _relative(context: ToolContext, path: Path) -> str:
    return path.resolve().relative_to(context.root.resolve()).as_posix()


def list_files(context: ToolContext, path: str = "") -> ToolResult:
    files = sorted(files_under(context.root))
    prefix = path.strip().strip("/")
    if prefix in (".", ""):
        prefix = ""
    chosen = [f for f in files if not prefix or f == prefix or f.startswith(prefix + "/")]
    if not chosen:
        return ToolResult(f"no files under {path!r}", ok=False)
    shown = chosen[:LIST_LIMIT]
    more = f"\n[... and {len(chosen) - len(shown)} more]" if len(chosen) > len(shown) else ""
    return ToolResult("\n".join(shown) + more)


def read_file(
    context: ToolContext, path: str, start_line: int = 1, end_line: int = 0
) -> ToolResult:
    if secret_path(path):
        return ToolResult(f"{path} holds secrets; treellama never reads it", ok=False)
    target = _resolve(context, path)
    if not target.is_file():
        return ToolResult(f"no file {path!r}; list_files shows what exists", ok=False)
    try:
        lines = target.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        return ToolResult(f"{path} is not a text file", ok=False)
    first = max(1, start_line)
    last = min(len(lines), end_line if end_line >= first else first + READ_LINES - 1)
    last = min(last, first + READ_LINES - 1)
    body = "\n".join(f"{n:5}| {lines[n - 1]}" for n in range(first, last + 1))
    header = f"{path} (lines {first}-{last} of {len(lines)})"
    return ToolResult(_cap(f"{header}\n{body}", MAX_RESULT_CHARS * 2))


def search_code(context: ToolContext, query: str) -> ToolResult:
    hits: list[str] = []
    words = [w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S+", query) if len(w) > 1]
    if not words:
        return ToolResult("give some words or identifiers to search for", ok=False)
    files = files_under(context.root)
    scored = []
    for relative, path in sorted(files.items()):
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, 1):
            score = 3 * (query in line) + sum(w in line for w in words)
            if score:
                scored.append((-score, relative, number, line.strip()))
    scored.sort()
    hits = [f"{rel}:{n}: {text[:160]}" for _, rel, n, text in scored[:SEARCH_LIMIT]]
    if context.index is not None and len(hits) < 5:
        for snippet in context.index.search_code(query, limit=5):
            head = snippet.text.split("\n")[0][:160]
            hits.append(f"{snippet.path}:{snippet.start_row + 1}: {head}")
    if not hits:
        return ToolResult(f"nothing matches {query!r}", ok=False)
    return ToolResult(_cap("\n".join(hits)))


_DEFINITION = (
    r"^\s*(?:export\s+)?(?:pub\s+)?(?:async\s+)?"
    r"(?:def|class|function|fn|func|struct|enum|trait|interface|type|const|let|var)\s+{name}\b"
)


def find_symbol(context: ToolContext, name: str) -> ToolResult:
    """Where `name` is defined, with the first lines of each definition."""
    pattern = re.compile(_DEFINITION.replace("{name}", re.escape(name.strip())), re.M)
    hits = []
    for relative, path in sorted(files_under(context.root).items()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.split("\n")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start())
            body = "\n".join(
                f"{n + 1:5}| {lines[n]}" for n in range(line, min(len(lines), line + SHOW_LINES))
            )
            hits.append(f"{relative}:{line + 1}:\n{body}")
    if not hits and context.index is not None:
        for hit in context.index.find_symbol(name, limit=10):
            hits.append(f"{hit.path}:{hit.name_row + 1}: {hit.kind} {hit.name}")
    if not hits:
        return ToolResult(f"no definition of {name!r} found", ok=False)
    return ToolResult(_cap("\n".join(hits[:SEARCH_LIMIT])))


def edit_file(context: ToolContext, path: str, old: str, new: str) -> ToolResult:
    if secret_path(path):
        return ToolResult(f"{path} holds secrets; treellama never edits it", ok=False)
    target = _resolve(context, path)
    relative = _relative(context, target)
    language = language_for(None, relative)
    if not target.exists():
        if old.strip():
            return ToolResult(f'no file {path!r}; to create it, set old to ""', ok=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(new if new.endswith("\n") else new + "\n", encoding="utf-8")
        return ToolResult(f"created {relative}", changed_files=(relative,))
    if is_test_path(relative) and not context.tests_editable:
        return ToolResult(PROTECTED.format(path=relative), ok=False)
    original = target.read_text(encoding="utf-8")
    if not old:
        candidate = new if new.endswith("\n") else new + "\n"  # the whole file, rewritten
    else:
        count = original.count(old)
        if count > 1:
            return ToolResult(
                f"old occurs {count} times in {relative}; include more lines so it matches once",
                ok=False,
            )
        loose = None if count == 1 else _loose_replace(original, old, new)
        if count == 0 and loose is None:
            return ToolResult(
                f"old was not found in {relative}.{did_you_mean(original, old)}", ok=False
            )
        candidate = original.replace(old, new, 1) if count == 1 else str(loose)
    try:
        edits = validate(original, candidate, language)
    except EditRejected as exc:
        return ToolResult(f"edit refused: {exc}", ok=False)
    target.write_text(candidate, encoding="utf-8")
    changed = sum(max(e.end_line - e.start_line, len(e.new_lines)) for e in edits)
    return ToolResult(f"edited {relative}: {changed} line(s) changed", changed_files=(relative,))


_DIFF_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)", re.M)


def apply_diff(context: ToolContext, diff: str) -> ToolResult:
    """Applies with `patch` (fuzzy context matching), then checks each file like edit_file."""
    targets = [t for t in _DIFF_FILE.findall(diff) if t != "/dev/null"]
    if not targets:
        return ToolResult("no '+++ path' lines: not a unified diff", ok=False)
    if any(secret_path(t) for t in targets):
        return ToolResult("the diff touches a file that holds secrets", ok=False)
    protected = [
        t for t in targets
        if is_test_path(t) and _resolve(context, t).exists() and not context.tests_editable
    ]  # fmt: skip
    if protected:
        return ToolResult(PROTECTED.format(path=protected[0]), ok=False)
    originals = {}
    for relative in targets:
        path = _resolve(context, relative)
        originals[relative] = path.read_text(encoding="utf-8") if path.exists() else None
    strip = "-p1" if re.search(r"^\+\+\+ b/", diff, re.M) else "-p0"
    if not diff.endswith("\n"):
        diff += "\n"
    applied = subprocess.run(
        [
            "patch",
            strip,
            "--forward",
            "--batch",
            "--no-backup-if-mismatch",
            "-r",
            "-",
            "-d",
            str(context.root),
        ],
        input=diff,
        capture_output=True,
        text=True,
        timeout=30,
    )
    if applied.returncode != 0:
        _restore(context, originals)
        return ToolResult(f"the diff does not apply: {applied.stdout.strip()[-800:]}", ok=False)
    for relative, original in originals.items():
        path = _resolve(context, relative)
        if original is None or not path.exists():
            continue
        try:
            validate(original, path.read_text(encoding="utf-8"), language_for(None, relative))
        except EditRejected as exc:
            _restore(context, originals)
            return ToolResult(f"diff refused for {relative}: {exc}", ok=False)
    return ToolResult(f"applied the diff to {', '.join(targets)}", changed_files=tuple(targets))


def _restore(context: ToolContext, originals: dict[str, str | None]) -> None:
    for relative, text in originals.items():
        path = _resolve(context, relative)
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")


def _ask(context: ToolContext, command: str, verdict: Verdict) -> Decision:
    request = ApprovalRequest(
        context.task_id,
        command,
        verdict.ask or "",
        command_prefix(command),
        outside_sandbox=not verdict.confined,
    )
    decision = context.approver.ask(request)
    context.on_approval(request, decision)
    if decision is Decision.ALWAYS:
        context.rules.remember(request.prefix)
    return decision


def _describe(result: CommandResult) -> str:
    status = "timed out" if result.timed_out else f"exit code {result.exit_code}"
    return _cap(f"$ ({status}, {result.duration_s:.1f} s)\n{result.output}")


def run_command(context: ToolContext, command: str, escalate: bool = False) -> ToolResult:
    if not command.strip():
        return ToolResult("give a command to run", ok=False)
    verdict = context.rules.verdict(command, escalate=escalate)
    if verdict.refused:
        return ToolResult(f"not run: {verdict.refused}", ok=False)
    if verdict.ask and _ask(context, command, verdict) is Decision.DENY:
        return ToolResult(
            "not run: the user declined. Try another way, or finish and explain.", ok=False
        )
    result = context.sandbox.run(command, confined=verdict.confined, cancel=context.cancel)
    retry = None if result.ok else context.rules.after_failure(command)
    if retry is not None and _ask(context, command, retry) is not Decision.DENY:
        result = context.sandbox.run(command, confined=False, cancel=context.cancel)
    return ToolResult(_describe(result), ok=result.ok)


def run_tests(context: ToolContext, path: str = "") -> ToolResult:
    command = context.test_command or detect_test_command(context.tree.workspace)
    if path.strip():
        _resolve(context, path)
        command = f"{command} {shlex.quote(path.strip())}"
    return run_command(context, command)


def first_test_run(context: ToolContext) -> str:
    """The project's tests, run once before the first step, when that needs no approval: a
    small model then starts from what fails instead of searching for it."""
    command = context.test_command or detect_test_command(context.tree.workspace)
    verdict = context.rules.verdict(command)
    if not verdict.run:
        return ""
    result = context.sandbox.run(command, confined=verdict.confined, cancel=context.cancel)
    return _describe(result)


def finish(context: ToolContext, summary: str) -> ToolResult:
    raise Submitted(summary)


HANDLERS: dict[str, Callable[..., ToolResult]] = {
    "list_files": list_files,
    "read_file": read_file,
    "search_code": search_code,
    "find_symbol": find_symbol,
    "edit_file": edit_file,
    "apply_diff": apply_diff,
    "run_command": run_command,
    "run_tests": run_tests,
    "finish": finish,
}


def run_tool(context: ToolContext, tool: str, args: dict[str, Any]) -> ToolResult:
    """Runs one call; errors in its arguments come back as a failed result, not an exception
    (only Submitted escapes)."""
    try:
        return HANDLERS[tool](context, **args)
    except Submitted:
        raise
    except (ValueError, OSError, UnicodeError, subprocess.SubprocessError) as exc:
        return ToolResult(f"{tool} failed: {exc}", ok=False)
