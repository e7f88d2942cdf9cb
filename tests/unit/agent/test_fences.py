"""Code fences inside the code a model rewrites: docstrings with Markdown examples (mkdocs'
```` ```pycon ````), in fences of three and four backticks and of tildes, and a Rust doc
comment's ```` ``` ```` block. The reply is cut at its own closing fence, by CommonMark, and the
cut is checked with the parser; generation stops only at a closing fence at column 0."""

from __future__ import annotations

import pytest

from agent.editing.fences import code_in_reply
from agent.model import ScriptedChatModel, cut_at_stop
from agent.refactor import rewrite
from inference.fences import closes, fence_for, opening_fence, reply_stop

FENCED = {
    "three backticks": ("```pycon", "```"),
    "four backticks": ("````pycon", "````"),
    "tildes": ("~~~pycon", "~~~"),
}


def documented(opening: str, closing: str, body: str = "return text.title()") -> str:
    return (
        "def titled(text):\n"
        '    """Title-case a text.\n\n'
        "    Examples:\n"
        f"        {opening}\n"
        "        >>> titled('a b')\n"
        "        'A B'\n"
        f"        {closing}\n"
        '    """\n'
        f"    {body}"
    )


RUST_DOC = (
    "/// Doubles a number.\n"
    "///\n"
    "/// ```\n"
    "/// assert_eq!(double(2), 4);\n"
    "/// ```\n"
    "pub fn double(x: i32) -> i32 {\n"
    "    x * 2\n"
    "}"
)


@pytest.mark.parametrize("kind", FENCED)
def test_a_python_docstrings_own_fence_is_kept_in_the_code(kind: str) -> None:
    opening, closing = FENCED[kind]
    code = documented(opening, closing)
    fence = fence_for(code)
    reply = code + f"\n{fence}\nThis title-cases the text."
    generated = cut_at_stop(reply, [reply_stop(fence)])
    assert code_in_reply(generated, fence, "python") == code
    # Even shown in the shortest fence, an indented fence inside the code closes nothing.
    assert code_in_reply(code + "\n```\n", "```", "python") == code


def test_the_fence_is_longer_than_any_backtick_run_the_code_holds() -> None:
    assert fence_for("x = 1") == "```"
    assert fence_for(documented("```pycon", "```")) == "````"
    assert fence_for(documented("````pycon", "````")) == "`````"
    assert fence_for(documented("~~~pycon", "~~~")) == "```"  # tildes never close backticks
    assert fence_for(RUST_DOC) == "````"
    assert opening_fence("````python\ndef f():") == "````"


def test_commonmark_closing_fences() -> None:
    assert closes("```", "```") and closes("   ````  ", "```")
    assert not closes("    ```", "```")  # four spaces: code, not a fence
    assert not closes("```pycon", "```")  # an info string opens, it never closes
    assert not closes("```", "````")  # shorter than the opening
    assert not closes("~~~", "```")  # another character


def test_a_rust_doc_comments_block_is_kept_and_generation_runs_past_it() -> None:
    fence = fence_for(RUST_DOC)
    reply = RUST_DOC + f"\n{fence}\n"
    generated = cut_at_stop(reply, [reply_stop(fence)])
    assert code_in_reply(generated, fence, "rust") == RUST_DOC
    # The old stop, any three backticks, ended the reply inside the doc comment.
    assert cut_at_stop(reply, ["```"]).endswith("///\n/// ")


def test_a_module_docstring_fence_at_column_zero_is_cut_where_the_code_parses() -> None:
    code = '"""Examples:\n\n```\n>>> f()\n1\n```\n"""\n\n\ndef f():\n    return 1'
    # Shown in ``` (as a model that ignored the longer fence writes it), CommonMark would cut
    # at the docstring's closing fence; the parser says the code goes on.
    assert code_in_reply(code + "\n```\nDone.", "```", "python") == code


def test_a_reply_closed_with_a_shorter_fence_than_it_was_opened_with() -> None:
    code = documented("```pycon", "```")
    assert code_in_reply(code + "\n```\nThat is all.", "````", "python") == code


def test_a_truncated_reply_is_all_code_and_nothing_parses_gives_the_commonmark_cut() -> None:
    assert code_in_reply("def f():\n    return 1", "```", "python") == "def f():\n    return 1"
    assert code_in_reply("def f(:\n```\nmore", "```", "python") == "def f(:"


@pytest.mark.parametrize("kind", FENCED)
def test_a_rewrite_of_a_function_with_a_fenced_docstring_keeps_all_of_it(kind: str) -> None:
    opening, closing = FENCED[kind]
    before = documented(opening, closing) + "\n\n\ndef other():\n    return 1\n"
    fixed = documented(opening, closing, "return text.upper()")
    model = ScriptedChatModel([fixed + "\n" + fence_for(fixed) + "\n"])
    result = rewrite(model, "t.py", before, "python", 0, 9, "upper-case it")
    (change,) = result.changes
    assert change.new_text == before.replace("text.title()", "text.upper()")
    messages, prefix = model.calls[0]
    assert prefix.startswith(fence_for(before)) and fence_for(before) in messages[-1]["content"]
