"""A model's reply for a region, made the whole file that the judge tests: the reply's pasted
imports cut and the needed ones hoisted, copies of the code shown beside it dropped, spliced
over the region (re-indented, the docstring put back), merged by definition when it left
definitions out, then checked (agent.judge.precheck)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from agent.class_context import drop_copied_members
from agent.editing.edits import EditRejected
from agent.editing.merge import merge_rewrite
from agent.editing.python_imports import (
    TrimmedReply,
    add_imports,
    needed_imports,
    trim_leading_imports,
)
from agent.judge import lost_definitions, precheck
from agent.localize import Region
from agent.rewrite import region_text, splice_code


@dataclass(frozen=True)
class FileCandidate:
    text: str  # the whole file
    code: str  # the reply's code, as it went in
    problem: str  # why it may not be tested; "" when it may


def file_from_reply(
    original: str, region: Region, reply: str, language: str, *, module: str,
    docstring: tuple[str, ...] = (), shown: tuple[str, ...] = (), may_remove: bool = False,
) -> FileCandidate:  # fmt: skip
    trimmed = TrimmedReply(reply, ())
    if region.kind == "function" and language == "python":
        trimmed = trim_leading_imports(reply)
        kept = drop_copied_members(trimmed.code, region.name, shown, language)
        trimmed = TrimmedReply(kept, trimmed.imports)
    code = trimmed.code
    try:
        text = splice_code(original, region, code, list(docstring))
    except EditRejected as exc:
        return FileCandidate(original, code, str(exc))
    if not may_remove and not docstring:
        text = merged(region, original, text, code, language)
    needed = needed_imports(trimmed.imports, code, original, module)
    text = add_imports(text, needed, region.first)
    return FileCandidate(text, code, precheck(original, text, language, may_remove, module))


def merged(region: Region, original: str, candidate: str, reply: str, language: str) -> str:
    """The candidate, or, when it left out definitions that the region holds, the reply
    merged into the region by definition (what it left out stays)."""
    if region.kind == "window" or not lost_definitions(original, candidate, language):
        return candidate
    if region.kind == "tail":  # the tail starts anywhere: merge into the whole file
        whole = merge_rewrite(original, textwrap.dedent(reply), language)
        return whole if whole is not None else candidate
    shown = textwrap.dedent(region_text(original, region))
    merged_code = merge_rewrite(shown, textwrap.dedent(reply), language)
    return splice_code(original, region, merged_code) if merged_code is not None else candidate
