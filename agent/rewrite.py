"""The one thing the pipeline asks the model: the new version of a located region, as code in
a fenced block (the reply is pre-filled with the opening fence; no code inside JSON).

The prompt shows the task, the failing tests' source and output, and the region; in a repair
round, also the previous attempt and what its tests said. The reply is spliced back over the
region's lines, re-indented when the model dropped the region's own indentation.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from agent.edits import EditRejected
from agent.localize import Region

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


def prompt(
    instruction: str,
    region: Region,
    code: str,
    language: str,
    tests: str = "",
    failures: str = "",
    attempts: tuple[Attempt, ...] = (),
) -> tuple[list[dict[str, str]], str]:
    """(messages, the reply's forced start)."""
    fence = FENCE.get(language, language)
    what = {
        "file": f"the file {region.path}",
        "tail": f"the end of {region.path} (add new code after what is there)",
        "add": f"the file {region.path}",
    }.get(region.kind, f"`{region.name}` from {region.path}")
    parts = [f"The task: {instruction.strip()}"]
    if tests:
        parts.append(f"The tests that must pass:\n```{fence}\n{tests[:MAX_TEST_CHARS]}\n```")
    if failures:
        parts.append(f"They fail now:\n```\n{failures[:MAX_OUTPUT_CHARS]}\n```")
    parts.append(f"Here is {what}:\n```{fence}\n{code}\n```")
    for attempt in attempts:
        parts.append(
            f"An earlier rewrite was wrong:\n```{fence}\n{attempt.code}\n```\n"
            f"Its tests said:\n```\n{attempt.feedback[:MAX_OUTPUT_CHARS]}\n```"
        )
    if region.kind == "add":
        parts.append(
            f"{region.path} has no `{region.name}` yet. Write only the new `{region.name}` (with "
            f"any imports it needs), to be added at the end of {region.path}, in one ```{fence} "
            "block, and nothing else."
        )
    else:
        keep = " Keep every existing definition." if region.kind == "file" else ""
        parts.append(
            f"Rewrite {what} so that the task is done.{keep} Reply with the complete new version "
            f"in one ```{fence} block, and nothing else."
        )
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
    return messages, f"```{fence}\n"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def code_of(reply: str) -> str:
    """The code in a reply that started inside the fence: up to the closing fence."""
    code = reply.split("```", 1)[0]
    return code.strip("\n")


def splice(text: str, region: Region, reply: str) -> str:
    """The file with the region's lines replaced by the reply's code."""
    code = code_of(reply)
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
    if region.kind == "function" and len(given) < len(wanted):
        new = textwrap.indent(textwrap.dedent(code), wanted).split("\n")
        new = [line if line.strip() else "" for line in new]
    ends_with_newline = region.last == len(lines) - 1 and text.endswith("\n")
    body = lines[: region.first] + new + lines[region.last + 1 :]
    result = "\n".join(body)
    if ends_with_newline and not result.endswith("\n"):
        result += "\n"
    return result
