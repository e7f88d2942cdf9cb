"""Golden prompts for every FIM family, and family detection from a vocabulary."""

import pytest

from inference.fim import (
    CL_EOT,
    CL_MID,
    CL_PRE,
    CL_SUF,
    DS_BEGIN,
    DS_END,
    DS_HOLE,
    FORMATS,
    INSTRUCT,
    LINE_LAYOUT_FAMILIES,
    ContextChunk,
    FimInput,
    detect_family,
    instruct_messages,
    instruct_reply_start,
    laid_out,
    layout_for,
)

PLAIN = FimInput(prefix="def f(x):\n    ", suffix="\n\nf(1)\n")
WITH_CHUNKS = FimInput(
    prefix="x = helper(",
    suffix=")\n",
    chunks=(ContextChunk("util.py", "def helper(a):\n    return a"),),
    path="main.py",
    repo="proj",
)

GOLDEN = {
    "qwen": (
        "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n\nf(1)\n<|fim_middle|>",
        "<|repo_name|>proj\n<|file_sep|>util.py\ndef helper(a):\n    return a\n"
        "<|file_sep|>main.py\n<|fim_prefix|>x = helper(<|fim_suffix|>)\n<|fim_middle|>",
    ),
    "starcoder2": (
        "<fim_prefix>def f(x):\n    <fim_suffix>\n\nf(1)\n<fim_middle>",
        "<repo_name>proj<file_sep>util.py\ndef helper(a):\n    return a\n"
        "<file_sep>main.py\n<fim_prefix>x = helper(<fim_suffix>)\n<fim_middle>",
    ),
    "starcoder": (
        "<fim_prefix>def f(x):\n    <fim_suffix>\n\nf(1)\n<fim_middle>",
        "<filename>util.py\ndef helper(a):\n    return a\n"
        "<filename>main.py\n<fim_prefix>x = helper(<fim_suffix>)\n<fim_middle>",
    ),
    "codellama": (
        f"{CL_PRE}def f(x):\n    {CL_SUF}\n\nf(1)\n{CL_MID}",
        f"{CL_PRE}util.py\ndef helper(a):\n    return a\n\nx = helper({CL_SUF})\n{CL_MID}",
    ),
    "deepseek": (
        f"{DS_BEGIN}def f(x):\n    {DS_HOLE}\n\nf(1)\n{DS_END}",
        f"{DS_BEGIN}util.py\ndef helper(a):\n    return a\n\nx = helper({DS_HOLE})\n{DS_END}",
    ),
    "codestral": (
        "[SUFFIX]\n\nf(1)\n[PREFIX]def f(x):\n    ",
        "[SUFFIX])\n[PREFIX]util.py\ndef helper(a):\n    return a\n\nx = helper(",
    ),
    "refact": (
        "<fim_suffix>\n\nf(1)\n<fim_prefix>def f(x):\n    <fim_middle>",
        "<fim_suffix>)\n<fim_prefix>util.py\ndef helper(a):\n    return a\n\n"
        "x = helper(<fim_middle>",
    ),
    "codegemma": (
        "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n\nf(1)\n<|fim_middle|>",
        "<|file_separator|>util.py\ndef helper(a):\n    return a\n"
        "<|fim_prefix|>x = helper(<|fim_suffix|>)\n<|fim_middle|>",
    ),
}


@pytest.mark.parametrize("family", sorted(FORMATS))
def test_golden_prompts(family):
    plain, with_chunks = GOLDEN[family]
    assert FORMATS[family].build(PLAIN) == plain
    assert FORMATS[family].build(WITH_CHUNKS) == with_chunks


def test_every_family_has_a_golden_and_stops():
    assert set(GOLDEN) == set(FORMATS)
    assert all(fmt.stop and fmt.markers for fmt in FORMATS.values())


def test_braces_in_code_are_kept_verbatim():
    fim = FimInput(prefix="d = {'{x}': 1", suffix="}\n")
    assert "{'{x}': 1" in FORMATS["qwen"].build(fim)


VOCABS = {
    "qwen": {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"},
    "codegemma": {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"},
    "starcoder2": {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>"},
    "starcoder": {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<filename>"},
    "deepseek": {DS_BEGIN, DS_HOLE, DS_END},
    "codestral": {"[SUFFIX]", "[PREFIX]", "[INST]"},
    "codellama": {CL_PRE, CL_SUF, CL_MID, CL_EOT},
}


@pytest.mark.parametrize(("family", "arch"), [
    ("qwen", "qwen2"), ("codegemma", "gemma"), ("starcoder2", "starcoder2"),
    ("starcoder", "starcoder"), ("deepseek", "llama"), ("codestral", "llama"),
    ("codellama", "llama"), ("refact", "refact"),
])  # fmt: skip
def test_detects_family_from_vocab(family, arch):
    vocab = VOCABS["starcoder"] if family == "refact" else VOCABS[family]
    assert detect_family(arch, vocab.__contains__) == family


def test_models_without_fim_tokens_get_the_instruction_prompt():
    assert detect_family("llama", {"<|im_start|>", "<|im_end|>"}.__contains__) == INSTRUCT


def test_instruction_prompt_puts_the_prefix_in_the_reply():
    messages = instruct_messages(WITH_CHUNKS, "python")
    assert messages[0]["role"] == "system"
    assert "File util.py:" in messages[1]["content"]
    assert messages[1]["content"].endswith("The code after the cursor is:\n```python\n)\n\n```")
    assert instruct_reply_start(WITH_CHUNKS, "python") == "```python\nx = helper("


def test_the_instruction_prompt_fences_code_that_holds_fences_in_a_longer_one():
    from inference.fim import instruct_stops
    from inference.http_backend import strip_fence

    doc = '    """Examples:\n\n        ```pycon\n        >>> f()\n        ```\n    """\n'
    fim = FimInput("def f():\n" + doc + "    return ", "\n")
    assert instruct_reply_start(fim, "python").startswith("````python\ndef f():")
    assert instruct_messages(fim, "python")[1]["content"].endswith("````python\n\n\n````")
    (stop,) = instruct_stops(fim)
    assert stop == "\n````" and stop not in fim.prefix
    # A chat model's fenced reply ends at its closing fence, not at the docstring's.
    reply = "```python\ndef f():\n" + doc + "    return 1\n```\nThat returns one."
    assert strip_fence(reply) == "def f():\n" + doc + "    return 1"


@pytest.mark.parametrize("family", sorted(FORMATS))
def test_the_line_layout_puts_the_cursor_line_after_the_middle_marker(family):
    prefix, middle = laid_out("def f(x):\n    return x +", "line")
    assert (prefix, middle) == ("def f(x):\n    ", "return x +")  # indentation stays
    fim = FimInput(prefix, " 1\n\nf(1)\n", middle=middle)
    prompt = FORMATS[family].build(fim)
    # Whatever the family's order, the text before the cursor ends the prompt's text part.
    assert prompt.split("return x +")[0].count("def f(x):") == 1
    if family in LINE_LAYOUT_FAMILIES:
        marker = FORMATS[family].markers[2]
        assert prompt.endswith(marker + "return x +")
    assert laid_out("def f(x):\n    return x +", "cursor") == ("def f(x):\n    return x +", "")
    # At the end of the indentation, and at the start of a line, the middle is empty.
    assert laid_out("def f(x):\n\t  ", "line") == ("def f(x):\n\t  ", "")
    assert laid_out("x = 1\n", "line") == ("x = 1\n", "")


def test_auto_is_the_cursor_layout_and_line_applies_where_the_prefix_comes_first():
    assert layout_for("auto", "qwen") == "cursor"  # measured: it lost somewhere
    assert layout_for("line", "qwen") == "line" and layout_for("line", "deepseek") == "line"
    assert layout_for("line", "codestral") == "cursor"  # suffix first: the same prompt
    assert layout_for("line", "instruct") == "cursor"
    assert layout_for("cursor", "qwen") == "cursor"
