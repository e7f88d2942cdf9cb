"""The agent's tool-call format: one JSON header per step, checked by a schema, and for the
tools that carry code, the code in fenced blocks after it:

    {"thought": "...", "tool": "edit_file", "args": {"path": "calc.py"}}
    ```old
        return a - b
    ```
    ```new
        return a + b
    ```

Code inside a JSON string costs even strong models accuracy (escapes, lost newlines), so it
never goes there. The header's schema and the blocks, turned into one llama.cpp grammar,
constrain decoding, so even a small model emits a well-formed call; anything that still does
not parse becomes a FormatError, which the loop feeds back to the model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from llama_cpp.llama_grammar import json_schema_to_gbnf


class FormatError(Exception):
    """The model's reply is not a valid tool call; the message tells it what to fix."""


def _optional(optional: bool) -> str:
    return ", optional" if optional else ""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    required: tuple[str, ...]
    blocks: tuple[str, ...] = ()  # string arguments sent as fenced blocks after the header

    @property
    def header(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.properties.items() if k not in self.blocks}

    def usage(self) -> str:
        fields = ", ".join(
            f'"{key}": <{value.get("type", "string")}{_optional(key not in self.required)}>'
            for key, value in self.header.items()
        )
        blocks = "".join(f" ```{name}" for name in self.blocks)
        after = f", then the blocks{blocks}" if self.blocks else ""
        return f"- {self.name} {{{fields}}}{after}: {self.description}"


_STR = {"type": "string"}
THOUGHT = _STR  # a maxLength here would multiply the grammar's size by its length
_INT = {"type": "integer"}

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_files", "list the project's files, optionally under a folder", {"path": _STR}, ()
    ),
    ToolSpec(
        "read_file",
        "read a file, with line numbers; optionally only lines start..end",
        {"path": _STR, "start_line": _INT, "end_line": _INT},
        ("path",),
    ),
    ToolSpec(
        "search_code", "search the code for words or identifiers", {"query": _STR}, ("query",)
    ),
    ToolSpec(
        "find_symbol",
        "find where a function, class or variable is defined",
        {"name": _STR},
        ("name",),
    ),
    ToolSpec(
        "edit_file",
        "replace the lines in the old block with the new block's in a file (the old "
        "lines must occur once); with an empty old block, the new block becomes the whole file "
        "(a new file, or a rewrite)",
        {"path": _STR, "old": _STR, "new": _STR},
        ("path", "old", "new"),
        blocks=("old", "new"),
    ),
    ToolSpec(
        "apply_diff",
        "apply the unified diff in the diff block to one or more files",
        {"diff": _STR},
        ("diff",),
        blocks=("diff",),
    ),
    ToolSpec(
        "run_command",
        "run a shell command in the project (sandboxed); set escalate to "
        "true only to ask the user to run it outside the sandbox",
        {"command": _STR, "escalate": {"type": "boolean"}},
        ("command",),
    ),
    ToolSpec(
        "run_tests", "run the project's tests, or only those under `path`", {"path": _STR}, ()
    ),
    ToolSpec(
        "finish",
        "end the task with a short summary of what changed",
        {"summary": _STR},
        ("summary",),
    ),
)
TOOL_NAMES = tuple(tool.name for tool in TOOLS)


@dataclass(frozen=True)
class ToolCall:
    thought: str
    tool: str
    args: dict[str, Any]

    def render(self) -> str:
        """The call as the model writes it: the JSON header, then the code blocks."""
        blocks = SPECS[self.tool].blocks if self.tool in SPECS else ()
        header = {k: v for k, v in self.args.items() if k not in blocks}
        text = json.dumps({"thought": self.thought, "tool": self.tool, "args": header})
        for name in blocks:
            body = str(self.args.get(name, ""))
            text += f"\n```{name}\n{body}{'' if not body or body.endswith(chr(10)) else chr(10)}```"
        return text


SPECS = {spec.name: spec for spec in TOOLS}
# A block's body: anything up to the closing fence (three backticks).
_BLOCK_RULES = """
block-body ::= ([^`] | "`" [^`] | "``" [^`])*
"""


def call_schema(tools: tuple[ToolSpec, ...] = TOOLS, escalate: bool = True) -> dict[str, Any]:
    """`escalate: False` leaves run_command's escalate flag out of the grammar: small models set
    every flag they are offered, and only the on-request policy acts on it."""

    def one(tool: ToolSpec) -> dict[str, Any]:
        properties = {k: v for k, v in tool.header.items() if escalate or k != "escalate"}
        args = {
            "type": "object",
            "properties": properties,
            "required": [k for k in tool.required if k in properties],
            "additionalProperties": False,
        }
        return {
            "type": "object",
            "properties": {"thought": THOUGHT, "tool": {"const": tool.name}, "args": args},
            "required": ["thought", "tool", "args"],
            "additionalProperties": False,
        }

    return {"oneOf": [one(tool) for tool in tools]}


@cache
def call_grammar(escalate: bool = True, without: str = "") -> str:
    """The GBNF grammar llama.cpp decodes tool calls under; `without` leaves one tool out."""
    tools = tuple(tool for tool in TOOLS if tool.name != without)
    grammar = json_schema_to_gbnf(json.dumps(call_schema(tools, escalate=escalate)))
    # The schema's alternatives are the tools in order; those that carry code get their
    # blocks after the header.
    alternatives = " | ".join(
        f"alternative-{index}"
        + "".join(f' "\\n```{name}\\n" block-body "```"' for name in tool.blocks)
        for index, tool in enumerate(tools)
    )
    root = f"root ::= {alternatives}"
    grammar, replaced = re.subn(r"^root ::= .*$", lambda _: root, grammar, flags=re.M)
    if replaced != 1:
        raise RuntimeError("unexpected grammar layout from json_schema_to_gbnf")
    return grammar + _BLOCK_RULES


def _first_object(text: str) -> str:
    start = text.find("{")
    if start < 0:
        raise FormatError("no JSON object found")
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    raise FormatError("the JSON object is not closed")


_BLOCK = re.compile(r"```([\w-]+)\n(.*?)```", re.S)


def _blocks(text: str) -> dict[str, str]:
    """The fenced blocks after the header, by name (the first of each name)."""
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(text):
        found.setdefault(match.group(1), match.group(2))
    return found


def parse_call(text: str) -> ToolCall:
    """The tool call in a reply; FormatError says what is wrong with it. A tool's code comes
    from the blocks after the header (as a JSON string in the header, it is accepted too)."""
    try:
        header = _first_object(text)
        raw = json.loads(header, strict=False)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"the reply is not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(raw, dict):
        raise FormatError("the reply must be a JSON object")
    tool = raw.get("tool")
    specs = {spec.name: spec for spec in TOOLS}
    if tool not in specs:
        raise FormatError(f"unknown tool {tool!r}; use one of {', '.join(TOOL_NAMES)}")
    args = raw.get("args", {})
    if not isinstance(args, dict):
        raise FormatError('"args" must be an object')
    spec = specs[tool]
    blocks = _blocks(text[text.index(header) + len(header) :])
    for name in spec.blocks:
        if name in blocks:
            args[name] = blocks[name]
        elif name not in args and name in spec.required:
            fences = " then ".join(f"```{b} block" for b in spec.blocks)
            raise FormatError(f"{tool} needs a ```{name} block after the JSON: {fences}")
    missing = [key for key in spec.required if key not in args]
    if missing:
        raise FormatError(f"{tool} needs {', '.join(missing)}")
    for key, value in args.items():
        expected = spec.properties.get(key, {}).get("type")
        if expected is None:
            raise FormatError(f"{tool} takes no argument {key!r}")
        kinds = {"string": str, "integer": int, "boolean": bool}
        if not isinstance(value, kinds[expected]) or (
            expected == "integer" and isinstance(value, bool)
        ):
            raise FormatError(f"{tool}: {key} must be a {expected}")
    return ToolCall(str(raw.get("thought", "")), tool, args)
