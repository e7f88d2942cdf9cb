"""The agent's tool-call format: one JSON object per step, checked by a schema.

`{"thought": "...", "tool": "<name>", "args": {...}}`. The same schema, turned into a llama.cpp
grammar, constrains decoding, so even a small model emits a well-formed call; anything that
still does not parse becomes a FormatError, which the loop feeds back to the model.
"""

from __future__ import annotations

import json
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

    def usage(self) -> str:
        fields = ", ".join(
            f'"{key}": <{value.get("type", "string")}{_optional(key not in self.required)}>'
            for key, value in self.properties.items()
        )
        return f"- {self.name} {{{fields}}}: {self.description}"


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
        "replace the exact text `old` with `new` in a file (old must occur "
        'once); with old "", `new` becomes the whole file (a new file, or a rewrite)',
        {"path": _STR, "old": _STR, "new": _STR},
        ("path", "old", "new"),
    ),
    ToolSpec("apply_diff", "apply a unified diff to one or more files", {"diff": _STR}, ("diff",)),
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

    def to_json(self) -> str:
        return json.dumps({"thought": self.thought, "tool": self.tool, "args": self.args})


def call_schema(tools: tuple[ToolSpec, ...] = TOOLS, escalate: bool = True) -> dict[str, Any]:
    """`escalate: False` leaves run_command's escalate flag out of the grammar: small models set
    every flag they are offered, and only the on-request policy acts on it."""

    def one(tool: ToolSpec) -> dict[str, Any]:
        properties = {k: v for k, v in tool.properties.items() if escalate or k != "escalate"}
        args = {
            "type": "object",
            "properties": properties,
            "required": list(tool.required),
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
    return json_schema_to_gbnf(json.dumps(call_schema(tools, escalate=escalate)))


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


def parse_call(text: str) -> ToolCall:
    """The tool call in a reply; FormatError says what is wrong with it."""
    try:
        raw = json.loads(_first_object(text), strict=False)
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
