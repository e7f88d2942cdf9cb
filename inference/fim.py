"""Fill-in-the-middle prompt formats: one pure function per model family, chosen from the GGUF.

A format turns the text around the cursor, plus optional context chunks from other files, into
the exact prompt the model was trained on. Special tokens are spelled out as text; the engine
tokenizes with `special=True` so that they become single control tokens. (llama-cpp-python's
own `suffix=` path is not used: its FIM token ids are hard-coded to 0.)

Context chunks go before the current file, as repository-level `file_sep` sections where the
family has them, so the prompt's prefix stays stable while the user types and its KV cache can
be reused. Families without file markers get the chunks as plain text at the top of the prefix.
Never use str.format here: user code is full of braces.

Where the cursor's line goes (`layout`, inference.completion): in the "line" layout, as
llama.vim and llama-server's /infill `prompt` field do, the prefix stops at the start of the
cursor's line (here: after its indentation), the rest of that line opens the suffix, and the
line up to the cursor follows the middle marker. Typing on a line then changes only the
prompt's last tokens, so the prefix, the suffix and every context chunk stay in the KV cache.
In the "cursor" layout the middle is empty.
Suffix-first families (Codestral, Refact) keep their cache either way: their prompt ends with
the prefix, so the middle simply continues it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inference.fences import fence_for


@dataclass(frozen=True)
class ContextChunk:
    """Code from elsewhere that may help the model: another file's region, a yank, a search hit."""

    path: str
    text: str
    source: str = "extra"  # why it is here: "recent-edit", "viewed", "yank", "index", ...


@dataclass(frozen=True)
class FimInput:
    prefix: str
    suffix: str
    chunks: Sequence[ContextChunk] = ()
    path: str = ""  # the current file, relative to the workspace when known
    repo: str = ""  # the workspace's name
    middle: str = ""  # the text after the middle marker: the cursor's line, in the line layout

    @property
    def before_cursor(self) -> str:
        """Everything before the cursor, for prompts that have no middle of their own."""
        return self.prefix + self.middle


@dataclass(frozen=True)
class FimFormat:
    family: str
    build: Callable[[FimInput], str]
    stop: tuple[str, ...]
    # The marker tokens the vocabulary must have for this family to be chosen.
    markers: tuple[str, ...] = field(default=())
    # Markers whose following text the family's reference tokenizer encodes without
    # SentencePiece's leading space (Meta's and Mistral's `encode_infilling` for the suffix).
    bare_after: tuple[str, ...] = field(default=())

    @property
    def prefix_end(self) -> str | None:
        """The special token that ends the FIM prefix, in families that put the prefix first."""
        return self.markers[1] if self.family in LINE_LAYOUT_FAMILIES else None

    @property
    def core_marker(self) -> str | None:
        """The special token that opens the FIM core, when context chunks come before it."""
        return self.markers[0] if self.family in CHUNKS_BEFORE_CORE else None


def _plain_chunks(fim: FimInput) -> str:
    return "".join(f"{chunk.path}\n{chunk.text}\n\n" for chunk in fim.chunks)


def qwen(fim: FimInput) -> str:
    core = f"<|fim_prefix|>{fim.prefix}<|fim_suffix|>{fim.suffix}<|fim_middle|>{fim.middle}"
    if not fim.chunks:
        return core
    head = f"<|repo_name|>{fim.repo or 'workspace'}\n"
    files = "".join(f"<|file_sep|>{chunk.path}\n{chunk.text}\n" for chunk in fim.chunks)
    return f"{head}{files}<|file_sep|>{fim.path or 'current'}\n{core}"


def starcoder(fim: FimInput) -> str:
    files = "".join(f"<filename>{chunk.path}\n{chunk.text}\n" for chunk in fim.chunks)
    current = f"<filename>{fim.path}\n" if fim.chunks and fim.path else ""
    core = f"<fim_prefix>{fim.prefix}<fim_suffix>{fim.suffix}<fim_middle>{fim.middle}"
    return f"{files}{current}{core}"


def starcoder2(fim: FimInput) -> str:
    core = f"<fim_prefix>{fim.prefix}<fim_suffix>{fim.suffix}<fim_middle>{fim.middle}"
    if not fim.chunks:
        return core
    files = "".join(f"<file_sep>{chunk.path}\n{chunk.text}\n" for chunk in fim.chunks)
    return f"<repo_name>{fim.repo or 'workspace'}{files}<file_sep>{fim.path or 'current'}\n{core}"


# CodeLlama's GGUF vocabularies spell its markers with SentencePiece's word boundary (U+2581);
# the prompt decodes to the paper's "<PRE> {prefix} <SUF>{suffix} <MID>".
CL_PRE, CL_SUF, CL_MID, CL_EOT = "\u2581<PRE>", "\u2581<SUF>", "\u2581<MID>", "\u2581<EOT>"


def codellama(fim: FimInput) -> str:
    return f"{CL_PRE}{_plain_chunks(fim)}{fim.prefix}{CL_SUF}{fim.suffix}{CL_MID}{fim.middle}"


# DeepSeek-Coder's markers use FULLWIDTH VERTICAL LINE (U+FF5C) and LOWER ONE EIGHTH BLOCK (U+2581).
DS_BEGIN = "<\uff5cfim\u2581begin\uff5c>"
DS_HOLE = "<\uff5cfim\u2581hole\uff5c>"
DS_END = "<\uff5cfim\u2581end\uff5c>"
DS_EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"


def deepseek(fim: FimInput) -> str:
    return f"{DS_BEGIN}{_plain_chunks(fim)}{fim.prefix}{DS_HOLE}{fim.suffix}{DS_END}{fim.middle}"


def codestral(fim: FimInput) -> str:
    # Mistral's FIM puts the suffix first.
    return f"[SUFFIX]{fim.suffix}[PREFIX]{_plain_chunks(fim)}{fim.before_cursor}"


def refact(fim: FimInput) -> str:
    # Refact's FIM is suffix first, with StarCoder's marker tokens.
    before = f"{_plain_chunks(fim)}{fim.before_cursor}"
    return f"<fim_suffix>{fim.suffix}<fim_prefix>{before}<fim_middle>"


def codegemma(fim: FimInput) -> str:
    files = "".join(f"<|file_separator|>{chunk.path}\n{chunk.text}\n" for chunk in fim.chunks)
    core = f"<|fim_prefix|>{fim.prefix}<|fim_suffix|>{fim.suffix}<|fim_middle|>{fim.middle}"
    return f"{files}{core}"


# Families whose prompt puts the prefix first: there the line layout moves the cursor's line
# after the middle marker. Suffix-first families (Codestral, Refact) have the same prompt in
# either layout, and so does an instruction prompt.
LINE_LAYOUT_FAMILIES = frozenset({"qwen", "starcoder2", "starcoder", "codegemma", "codellama",
                                  "deepseek"})  # fmt: skip
LINE, CURSOR = "line", "cursor"


def layout_for(setting: str, family: str) -> str:
    """The layout a completion prompt takes. "auto" is the cursor layout: the line layout,
    measured against it in one run, lost more than a point somewhere for both models
    (cross-file cases, 0.5B: 30.0% to 22.5%; mid-line HumanEval, 1.5B: 58.8% to 56.2%) while
    winning elsewhere (mid-line HumanEval, 0.5B: 42.5% to 49.7%), and a default must not lose
    (bench/README.md). "line" is the user's choice of speed: a keystroke re-reads the line's
    tokens instead of the suffix's."""
    return LINE if setting == LINE and family in LINE_LAYOUT_FAMILIES else CURSOR


def laid_out(prefix: str, layout: str) -> tuple[str, str]:
    """(prefix, middle): in the line layout the cursor's line, after its indentation, moves
    from the prefix to the middle. The indentation stays in the prefix: typing does not change
    it, and a cursor at the end of it (a new line, an emptied one) gets the very prompt of the
    cursor layout, which Qwen2.5-Coder completes better than one whose middle is the
    indentation alone (bench/README.md)."""
    if layout != LINE:
        return prefix, ""
    start = prefix.rfind("\n") + 1
    line = prefix[start:]
    cut = start + len(line) - len(line.lstrip(" \t"))
    return prefix[:cut], prefix[cut:]


# Families whose context chunks sit in their own sections before the FIM core.
CHUNKS_BEFORE_CORE = frozenset({"qwen", "starcoder2", "starcoder", "codegemma"})

QWEN_STOPS = (
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
    "<|file_sep|>", "<|repo_name|>", "<|im_start|>", "<|im_end|>",
)  # fmt: skip
QWEN_MARKERS = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>")
CODEGEMMA_STOPS = (
    "<|file_separator|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<eos>",
    "<end_of_turn>",
)  # fmt: skip
CODEGEMMA_MARKERS = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>")

FORMATS: dict[str, FimFormat] = {
    fmt.family: fmt
    for fmt in (
        FimFormat("qwen", qwen, stop=QWEN_STOPS, markers=QWEN_MARKERS),
        FimFormat(
            "starcoder2",
            starcoder2,
            stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            markers=("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
        ),
        FimFormat(
            "starcoder",
            starcoder,
            stop=("<|endoftext|>", "<filename>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            markers=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
        ),
        FimFormat(
            "refact",
            refact,
            stop=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            markers=("<fim_suffix>", "<fim_prefix>", "<fim_middle>"),
        ),
        FimFormat(
            "codellama",
            codellama,
            stop=("<EOT>",),
            markers=(CL_PRE, CL_SUF, CL_MID),
            # The middle continues the model's own output, which has no leading space either.
            bare_after=(CL_SUF, CL_MID),
        ),
        FimFormat(
            "deepseek",
            deepseek,
            stop=(DS_EOS, DS_BEGIN, DS_HOLE, DS_END, "<|EOT|>"),
            markers=(DS_BEGIN, DS_HOLE, DS_END),
        ),
        FimFormat(
            "codestral",
            codestral,
            stop=("</s>", "[PREFIX]", "[SUFFIX]"),
            markers=("[SUFFIX]", "[PREFIX]"),
            bare_after=("[SUFFIX]",),
        ),
        FimFormat("codegemma", codegemma, stop=CODEGEMMA_STOPS, markers=CODEGEMMA_MARKERS),
    )
}

# Tried in this order: families whose markers are a superset of another's come first.
DETECTION_ORDER = ("qwen", "codegemma", "starcoder2", "starcoder", "deepseek", "codestral",
                   "codellama", "refact")  # fmt: skip
INSTRUCT = "instruct"


def detect_family(architecture: str, has_token: Callable[[str], bool]) -> str:
    """The FIM family for a model, from its architecture and which marker tokens its vocab has.

    Returns INSTRUCT for models without FIM tokens: they get an instruction prompt instead."""
    arch = architecture.lower()
    candidates = list(DETECTION_ORDER)
    # Families that share marker tokens with another are told apart by architecture.
    for prefix, family in (("gemma", "codegemma"), ("refact", "refact")):
        if arch.startswith(prefix):
            candidates.remove(family)
            candidates.insert(0, family)
    for family in candidates:
        if all(has_token(marker) for marker in FORMATS[family].markers):
            return family
    return INSTRUCT


def format_for(family: str) -> FimFormat:
    return FORMATS[family]


def bare_after(family: str) -> tuple[str, ...]:
    """The family's markers after which text is tokenized without a leading space."""
    return FORMATS[family].bare_after if family in FORMATS else ()


INSTRUCT_SYSTEM = (
    "You are a code completion engine. Your reply continues the user's file from exactly where "
    "it stops, so that it joins up with the code that follows the cursor. Reply with code only."
)


def instruct_fence(fim: FimInput) -> str:
    """The fence of the instruction prompt: longer than any the code holds (inference.fences),
    so that a docstring's own ```` ``` ```` neither closes a block nor stops the reply."""
    return fence_for(fim.before_cursor, fim.suffix, *(chunk.text for chunk in fim.chunks))


def instruct_stops(fim: FimInput) -> tuple[str, ...]:
    """The reply ends at its closing fence at column 0, not at a fence inside the code."""
    return ("\n" + instruct_fence(fim),)


def instruct_messages(fim: FimInput, language: str = "") -> list[dict[str, str]]:
    """Chat messages for an instruction-tuned model without FIM tokens.

    The model sees the code after the cursor here; the code before it goes at the start of its
    own reply (`instruct_reply_start`), which it then simply continues. Small models follow
    that far better than an instruction to fill a marked hole, which they tend to echo."""
    mark = instruct_fence(fim)
    context = "".join(f"File {c.path}:\n{mark}\n{c.text}\n{mark}\n\n" for c in fim.chunks)
    where = f" in {fim.path}" if fim.path else ""
    user = (
        f"{context}Continue the code{where} from the cursor. The code after the cursor is:\n"
        f"{mark}{language}\n{fim.suffix}\n{mark}"
    )
    return [{"role": "system", "content": INSTRUCT_SYSTEM}, {"role": "user", "content": user}]


def instruct_reply_start(fim: FimInput, language: str = "") -> str:
    return f"{instruct_fence(fim)}{language}\n{fim.before_cursor}"


HOLE = "<CURSOR>"


def hole_messages(fim: FimInput, language: str = "") -> list[dict[str, str]]:
    """Chat messages asking a (larger, remote) chat model to fill a marked hole."""
    context = "".join(f"File {chunk.path}:\n```\n{chunk.text}\n```\n\n" for chunk in fim.chunks)
    system = (
        "You are a code completion engine. The user shows a file with one " + HOLE + " marker. "
        "Reply with only the code to insert at " + HOLE + ": no explanation, no markdown fences, "
        "and do not repeat the code around the marker."
    )
    user = f"{context}```{language}\n{fim.before_cursor}{HOLE}{fim.suffix}\n```"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
