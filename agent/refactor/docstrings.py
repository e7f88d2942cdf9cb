"""Adding a docstring: the model writes only its text; the action puts it in place, in the
form the language uses (a Python string, a comment block above the definition)."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from agent.editing.edits import (
    EditRejected,
    FileChange,
    validate,
)
from agent.model import ChatModel
from agent.refactor.common import (
    SYSTEM,
    Refactoring,
    Target,
    _code_block,
    _fence,
    _indent_of,
    _lines,
    _retrying,
    _Unchanged,
    _with_context,
    enclosing_definition,
)
from indexing.parsing import parse
from indexing.symbols import Symbol
from inference.fences import fence_for, reply_stop


def _python_definition(text: str, symbol: Symbol) -> Any:
    tree = parse(text.encode("utf-8"), "python")
    node = tree.root_node.descendant_for_point_range(symbol.start, symbol.start) if tree else None
    while node is not None and node.type not in ("function_definition", "class_definition"):
        node = node.parent
    return node


def _python_existing_docstring(node: Any) -> Any:
    """The statement holding the definition's docstring, or None. The grammar puts a
    docstring in the block either bare or inside an expression statement."""
    block = node.child_by_field_name("body") if node is not None else None
    first = block.named_children[0] if block is not None and block.named_children else None
    if first is None:
        return None
    if first.type == "string":
        return first
    if first.type == "expression_statement" and first.named_children:
        return first if first.named_children[0].type == "string" else None
    return None


def has_docstring(text: str, language: str, symbol: Symbol) -> bool:
    """Whether the definition already has a docstring (Python) or doc comment (others)."""
    if language == "python":
        return _python_existing_docstring(_python_definition(text, symbol)) is not None
    lines = text.split("\n")
    above = lines[symbol.start[0] - 1].strip() if symbol.start[0] > 0 else ""
    if language == "rust":
        return above.startswith("///")
    return above.endswith("*/")


def _python_docstring(text: str, symbol: Symbol, body: str) -> str:
    lines = text.split("\n")
    node = _python_definition(text, symbol)
    if node is None:
        raise EditRejected("the definition could not be found again")
    block = node.child_by_field_name("body")
    first_statement = (
        block.named_children[0] if block is not None and block.named_children else None
    )
    indent = _indent_of(lines[first_statement.start_point[0]]) if first_statement else "    "
    body = body.strip().strip('"').strip()
    if not body:
        raise EditRejected("the docstring is empty")
    if "\n" in body:
        head, rest = body.split("\n", 1)
        # Keep the reply's relative indentation (Args: entries under their heading).
        body_lines = [head.strip(), *textwrap.dedent(rest).split("\n")]
        docstring = [f'{indent}"""{body_lines[0]}']
        docstring += [f"{indent}{line}" if line else "" for line in body_lines[1:]]
        docstring.append(f'{indent}"""')
    else:
        docstring = [f'{indent}"""{body}"""']
    existing = _python_existing_docstring(node)
    if existing is not None:
        first, last = existing.start_point[0], existing.end_point[0]
        return "\n".join([*lines[:first], *docstring, *lines[last + 1 :]])
    after = block.start_point[0] if block is not None else symbol.start[0] + 1
    if block is not None and block.start_point[0] == symbol.start[0]:  # `def f(): return 1`
        raise EditRejected("a one-line definition has no room for a docstring")
    return "\n".join([*lines[:after], *docstring, *lines[after:]])


def _comment_docstring(text: str, symbol: Symbol, body: str, language: str) -> str:
    lines = text.split("\n")
    start = symbol.start[0]
    indent = _indent_of(lines[start])
    body_lines = [
        re.sub(r"^\s*(\*|///)\s?", "", line).rstrip() for line in body.strip().split("\n")
    ]
    body_lines = [line for line in body_lines if line.strip() not in ("/**", "*/", "*")]
    if not any(body_lines):
        raise EditRejected("the doc comment is empty")
    if language == "rust":
        comment = [f"{indent}/// {line}".rstrip() for line in body_lines]
        top = start
        while top > 0 and lines[top - 1].strip().startswith(("///", "#[")):
            top -= 1
        existing_end = top
        while existing_end < start and lines[existing_end].strip().startswith("///"):
            existing_end += 1
        return "\n".join([*lines[:top], *comment, *lines[existing_end:]])
    comment = [
        f"{indent}/**",
        *(f"{indent} * {line}".rstrip() for line in body_lines),
        f"{indent} */",
    ]
    top = start
    if top > 0 and lines[top - 1].strip().endswith("*/"):  # refresh an existing doc comment
        opening = top - 1
        while opening > 0 and not lines[opening].strip().startswith("/**"):
            opening -= 1
        if lines[opening].strip().startswith("/**"):
            return "\n".join([*lines[:opening], *comment, *lines[start:]])
    return "\n".join([*lines[:start], *comment, *lines[start:]])


def _docstring_form(text: str, language: str, symbol: Any, mark: str) -> tuple[str, list[str], str]:
    """(the reply's forced start, its stops, what to ask for) for a language's doc comments;
    Python's reply starts inside the docstring, after the definition's header. The reply
    opens with `mark`, and only that fence alone on a line ends it: a doc comment's own
    examples (```` ``` ```` in Markdown) do not."""
    stop = reply_stop(mark)
    if language == "python":
        lines = text.split("\n")
        header_end = symbol.start[0]
        while header_end < symbol.end[0] and not lines[header_end].rstrip().endswith(":"):
            header_end += 1
        header = "\n".join(lines[symbol.start[0] : header_end + 1])
        indent = _indent_of(lines[min(header_end + 1, len(lines) - 1)]) or "    "
        style = "a Python docstring (a summary line; then Args/Returns when they help)"
        return f'{mark}python\n{header}\n{indent}"""', ['"""', stop], style
    if language == "rust":
        return f"{mark}rust\n/// ", [stop, "\nfn ", "\npub "], "a Rust `///` doc comment"
    return f"{mark}{_fence(language)}\n/**\n * ", ["*/", stop], "a JSDoc comment"


def add_docstring(
    model: ChatModel, path: str, text: str, language: str, line: int, context: str = ""
) -> Refactoring:
    symbol = enclosing_definition(text, language, line)
    if symbol is None:
        raise EditRejected("there is no function or class here to document")
    target = Target(symbol.start[0], symbol.end[0], symbol.name, symbol.kind)
    code = _lines(text, target)
    prefix, stop, style = _docstring_form(text, language, symbol, fence_for(code))
    documented = has_docstring(text, language, symbol)
    task = (
        "It has one already: check it against the code and write it again, corrected where it "
        "is wrong or incomplete, otherwise word for word."
        if documented
        else "Describe what it does, not how."
    )
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": _with_context(
                f"Write {style} for `{symbol.name}`. {task}\n{_code_block(code, language)}",
                context,
            ),
        },
    ]

    def attempt(reply: str) -> FileChange:
        body = reply
        if language == "rust":
            kept = [reply.split("\n")[0]]
            kept += [ln for ln in reply.split("\n")[1:] if ln.strip().startswith("///")]
            body = "\n".join(kept)
        if language == "python":
            candidate = _python_docstring(text, symbol, body)
        else:
            candidate = _comment_docstring(text, symbol, body, language)
        if documented and candidate.split() == text.split():
            raise _Unchanged
        # A docstring may only touch the definition and the lines just above it.
        edits = validate(text, candidate, language, (max(0, target.first - 30), target.last + 1))
        return FileChange(path, text, candidate, edits)

    title = f"{'Refresh docstring of' if documented else 'Add docstring to'} {symbol.name}"
    try:
        change, attempts = _retrying(
            model, messages, attempt, reply_prefix=prefix, stop=stop, max_tokens=200
        )
    except _Unchanged:
        return Refactoring(title, [], up_to_date=f"the docstring of {symbol.name} is up to date")
    return Refactoring(title, [change], attempts)
