"""The one thing the pipeline asks the model: the new version of a located region, as code in
a fenced block (the reply is pre-filled with the opening fence; no code inside JSON).

The prompt shows the task, the failing tests' source and output, and the region; in a repair
round, also the previous attempt and what its tests said. The reply is spliced back over the
region's lines, re-indented when the model dropped the region's own indentation.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from agent.editing.edits import EditRejected
from agent.editing.fences import code_in_reply
from agent.judge import UNCHANGED
from agent.localize import Region
from indexing.languages import language_for
from indexing.parsing import parse
from inference.fences import fence_for, opening_fence

FENCE = {"python": "python", "javascript": "javascript", "typescript": "typescript",
         "tsx": "tsx", "rust": "rust", "go": "go"}  # fmt: skip
SYSTEM = (
    "You are an expert programmer. You fix bugs and implement features by rewriting the code "
    "you are shown. Keep everything that does not need to change exactly as it is, keep the "
    "style, and never change the tests."
)
MAX_TEST_CHARS = 2500
MAX_OUTPUT_CHARS = 1500


@dataclass(frozen=True)
class Attempt:
    """A previous candidate and what the tests said about it, for a repair round."""

    code: str
    feedback: str


def region_text(text: str, region: Region) -> str:
    return "\n".join(text.split("\n")[region.first : region.last + 1])


def _function_node(code: str) -> Any | None:
    """The first function definition of a (dedented) Python snippet."""
    tree = parse(textwrap.dedent(code).encode(), "python")
    if tree is None:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop(0)
        if node.type == "function_definition":
            return node
        stack[:0] = list(node.named_children)
    return None


def _is_string(statement: Any) -> bool:
    # Grammars differ: the docstring is a bare string, or an expression statement holding one.
    if statement.type == "expression_statement" and statement.named_children:
        statement = statement.named_children[0]
    return bool(statement.type in ("string", "concatenated_string"))


def docstring_lines(code: str) -> tuple[int, int] | None:
    """(first, last) lines, 0-based, of a Python function's docstring within its code."""
    node = _function_node(code)
    body = node.child_by_field_name("body") if node is not None else None
    if body is None or not body.named_children:
        return None
    first = body.named_children[0]
    if _is_string(first):
        if len(body.named_children) == 1:
            return None  # the docstring is all there is: nothing left to rewrite without it
        return first.start_point[0], first.end_point[0]
    return None


def definition_head(code: str, name: str) -> str:
    """The code's lines up to and including the line of `def name(` (its decorators first),
    when the code is that Python function; "" otherwise.

    The pipeline starts the model's reply with it: shown a failing test, small models often
    open a rewrite with the test's imports, or with the test itself, instead of the function.
    It ends at a line break, where the tokenizer splits anyway."""
    lines = code.split("\n")
    for row, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("@"):
            continue
        if re.match(rf"(async\s+)?def\s+{re.escape(name)}\s*\(", stripped):
            return "\n".join(lines[: row + 1]) + "\n"
        return ""
    return ""


def put_back_docstring(code: str, docstring: list[str]) -> str:
    """The model's function with the original docstring put back at the top of its body; as
    it is when it already has one or does not parse (then the checks judge it)."""
    node = _function_node(code)
    body = node.child_by_field_name("body") if node is not None else None
    if node is None or body is None or not body.named_children:
        return code
    first = body.named_children[0]
    if _is_string(first):
        return code
    lines = code.split("\n")
    row = first.start_point[0]
    if body.start_point[0] == node.start_point[0]:
        return code  # a one-line body after the colon
    wanted = _indent(lines[row])
    given = _indent(next(line for line in docstring if line.strip()))
    shifted = [wanted + line[len(given) :] if line.strip() else "" for line in docstring]
    return "\n".join(lines[:row] + shifted + lines[row:])


@dataclass(frozen=True)
class Section:
    """A part of the prompt beside the code (agent.pipeline.sources: one module each)."""

    caption: str
    text: str
    fence: str = "code"  # code: a block in the code's language; plain: a block; none: as is
    after_code: bool = False
    shown: tuple[str, ...] = ()  # the definitions it shows: a reply's copy of them is dropped


def prompt(
    instruction: str,
    region: Region,
    code: str,
    language: str,
    sections: tuple[Section, ...] = (),
    attempts: tuple[Attempt, ...] = (),
    docstring: str = "",
) -> tuple[list[dict[str, str]], str]:
    """(messages, the reply's forced start). With a docstring, `code` is the function without
    it: the docstring is shown apart and put back by the caller. `sections` are shown before
    the code, or after it when they say so, in their order."""
    lang = FENCE.get(language, language)
    texts = (code, docstring, *(s.text for s in sections), *(a.code for a in attempts),
             *(a.feedback for a in attempts))  # fmt: skip
    # One fence for every block, longer than any fence the code holds (inference.fences).
    mark = fence_for(*texts)
    what = {
        "file": f"the file {region.path}",
        "tail": f"the end of {region.path} (add new code after what is there)",
        "add": f"the file {region.path}",
        "window": f"lines {region.first + 1}-{region.last + 1} of `{region.name}` in {region.path}",
    }.get(region.kind, f"`{region.name}` from {region.path}")
    parts = [f"The task: {instruction.strip()}"]
    parts += [_section(s, mark, lang) for s in sections if not s.after_code]
    if docstring:
        parts.append(f"The docstring of `{region.name}`, which stays as it is:\n{mark}\n"
                     f"{textwrap.dedent(docstring).strip()}\n{mark}")  # fmt: skip
        what_code = f"the code of `{region.name}` from {region.path}, without its docstring"
        parts.append(f"Here is {what_code}:\n{mark}{lang}\n{code}\n{mark}")
    else:
        parts.append(f"Here is {what}:\n{mark}{lang}\n{code}\n{mark}")
    parts += [_section(s, mark, lang) for s in sections if s.after_code]
    parts += [_attempt_part(attempt, mark, lang) for attempt in attempts]
    parts.append(_request(region, what, bool(docstring), f"{mark}{lang}"))
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
    return messages, f"{mark}{lang}\n"


def _section(section: Section, mark: str, lang: str) -> str:
    if section.fence == "none":
        return section.text
    opening = mark + (lang if section.fence == "code" else "")
    return f"{section.caption}:\n{opening}\n{section.text}\n{mark}"


def _request(region: Region, what: str, docstring: bool, opening: str) -> str:
    """What the prompt asks for, last: the new definition, or the region rewritten."""
    if region.kind == "add":
        return (
            f"{region.path} has no `{region.name}` yet. Write only the new `{region.name}` (with "
            f"any imports it needs), to be added at the end of {region.path}, in one {opening} "
            "block, and nothing else."
        )
    keep = " Keep every existing definition." if region.kind == "file" else ""
    keep += " Leave the docstring out." if docstring else ""
    return (
        f"Rewrite {what} so that the task is done.{keep} Reply with the complete new version "
        f"in one {opening} block, and nothing else."
    )


def _attempt_part(attempt: Attempt, mark: str, lang: str) -> str:
    if attempt.feedback == UNCHANGED:
        # Shown its own unchanged copy again, a small model copies it once more.
        return (
            "An earlier answer gave the code back unchanged, which is wrong: the code has a "
            "bug that makes the tests fail. Find the line that is wrong and change it."
        )
    return (
        f"An earlier rewrite was wrong:\n{mark}{lang}\n{attempt.code}\n{mark}\n"
        f"Its tests said:\n{mark}\n{attempt.feedback[:MAX_OUTPUT_CHARS]}\n{mark}"
    )


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def code_of(reply: str, reply_prefix: str = "```", language: str | None = None) -> str:
    """The code in a reply that started inside the fence `reply_prefix` opened: up to its
    closing fence, checked with the parser when `language` is given (agent.editing.fences)."""
    return code_in_reply(reply, opening_fence(reply_prefix), language)


def splice(
    text: str, region: Region, reply: str, docstring: list[str] | None = None,
    reply_prefix: str = "```",
) -> str:  # fmt: skip
    """The file with the region's lines replaced by the reply's code (with the region's
    docstring put back, when the model was shown the function without it)."""
    language = language_for(None, region.path)
    return splice_code(text, region, code_of(reply, reply_prefix, language), docstring)


def splice_code(text: str, region: Region, code: str, docstring: list[str] | None = None) -> str:
    if not code.strip():
        raise EditRejected("the reply has no code")
    if region.kind == "add":
        return text.rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"
    lines = text.split("\n")
    original = lines[region.first : region.last + 1]
    first_code = next((line for line in original if line.strip()), "")
    new = code.split("\n")
    first_new = next((line for line in new if line.strip()), "")
    wanted, given = _indent(first_code), _indent(first_new)
    if region.kind in ("function", "window") and len(given) < len(wanted):
        new = textwrap.indent(textwrap.dedent(code), wanted).split("\n")
        new = [line if line.strip() else "" for line in new]
    if docstring:
        new = put_back_docstring("\n".join(new), docstring).split("\n")
    new = keep_blank_lines(original, new)
    ends_with_newline = region.last == len(lines) - 1 and text.endswith("\n")
    body = lines[: region.first] + new + lines[region.last + 1 :]
    result = "\n".join(body)
    if ends_with_newline and not result.endswith("\n"):
        result += "\n"
    return result


def keep_blank_lines(original: list[str], new: list[str]) -> list[str]:
    """`new` with the region's blank lines as they were around every line that it kept.

    A reply's code is cut at its fences and stripped at both ends, and a small model often
    writes one blank line where the file had two: spliced as it is, the diff shows a deletion
    nobody asked for, and PEP 8 then flags the file. So the region keeps its own blank lines
    at both ends, and between two lines of the reply the blank lines are the original's after
    the first (when it is an original line) or else before the second; only between two new
    lines are they the model's."""
    kept_rows = [i for i, line in enumerate(original) if line.strip()]
    new_rows = [j for j, line in enumerate(new) if line.strip()]
    if not kept_rows or not new_rows:
        return new
    matcher = difflib.SequenceMatcher(
        a=[original[i] for i in kept_rows], b=[new[j] for j in new_rows], autojunk=False
    )
    was = {m.b + k: m.a + k for m in matcher.get_matching_blocks() for k in range(m.size)}

    def gap_after(k: int) -> list[str]:  # the original's blank lines after its k-th line
        end = kept_rows[k + 1] if k + 1 < len(kept_rows) else len(original)
        return original[kept_rows[k] + 1 : end]

    last = len(kept_rows) - 1  # after the region's last line is its end, not a gap
    result = original[: kept_rows[0]]
    for k, row in enumerate(new_rows):
        result.append(new[row])
        if k + 1 == len(new_rows):
            break
        before, after = was.get(k), was.get(k + 1)
        if before is not None and before < last and (after is None or after > before):
            result += gap_after(before)
        elif after is not None and after > 0:
            result += gap_after(after - 1)
        else:
            result += new[row + 1 : new_rows[k + 1]]
    return result + original[kept_rows[-1] + 1 :]
