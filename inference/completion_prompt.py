"""The completion prompt: windows around the cursor and context chunks, trimmed to the
context window in the model's own tokens, in the model family's FIM format (or an instruct
model's chat)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inference.backend import CompletionEngine
from inference.completion_types import _Prepared
from inference.context import pack_chunks
from inference.fim import (
    INSTRUCT,
    FimInput,
    format_for,
    instruct_messages,
    instruct_reply_start,
    laid_out,
    layout_for,
)

RESERVED_TOKENS = 16  # slack for special tokens and the first generated token


def _trim_window(
    prefix: str, suffix: str, budget: int, count_tokens: Callable[[str], int]
) -> tuple[str, str]:
    """Drops whole lines from the far ends until prefix and suffix fit in `budget` tokens."""
    while count_tokens(prefix) + count_tokens(suffix) > budget:
        prefix_lines = prefix.split("\n")
        suffix_lines = suffix.split("\n")
        if len(prefix_lines) <= 1 and len(suffix_lines) <= 1:
            return prefix[-budget * 2 :], suffix[: budget // 2]
        # The prefix matters more: the suffix gives up a line for every three of the prefix.
        if len(suffix_lines) > 1 and len(suffix_lines) * 3 >= len(prefix_lines):
            suffix = "\n".join(suffix_lines[: -max(1, len(suffix_lines) // 8)])
        else:
            prefix = "\n".join(prefix_lines[max(1, len(prefix_lines) // 8) :])
    return prefix, suffix


def cap_suffix(suffix: str, max_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The longest run of whole lines from the start of `suffix` within `max_tokens` (the rest
    of the cursor's line is always kept, cut to size if it alone is too long)."""
    if max_tokens <= 0:
        return ""
    if count_tokens(suffix) <= max_tokens:
        return suffix
    lines = suffix.split("\n")
    low, high = 1, len(lines)  # the answer keeps `low` lines: the most that fit (at least 1)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens("\n".join(lines[:middle])) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    kept = "\n".join(lines[:low])
    if low == 1 and count_tokens(kept) > max_tokens:
        kept = kept[: max_tokens * 2]
    return kept + "\n" if low < len(lines) else kept


@dataclass(frozen=True)
class BuiltPrompt:
    text: str
    family: str
    fim: FimInput  # its parts, with the chunks that fit
    layout: str


def build_prompt(engine: CompletionEngine, prepared: _Prepared) -> BuiltPrompt:
    """The prompt, in the family's format and the layout's split, within the context window."""
    settings = prepared.settings
    family = settings.prompt_format
    if family == "auto":
        family = engine.info.family
    layout = layout_for(settings.prompt_layout, family)
    prefix, middle = laid_out(prepared.window.prefix, layout)
    n_ctx = engine.info.n_ctx
    count = engine.count_tokens
    budget = n_ctx - settings.max_tokens - RESERVED_TOKENS - (count(middle) if middle else 0)
    local_budget = budget - min(settings.context_tokens, budget // 3)
    suffix = cap_suffix(prepared.window.suffix, settings.suffix_tokens, count)
    prefix, suffix = _trim_window(prefix, suffix, local_budget, count)
    spare = budget - count(prefix) - count(suffix)
    chunks = tuple(pack_chunks(prepared.chunks, min(settings.context_tokens, spare), count))
    request = prepared.request
    fim = FimInput(prefix, suffix, chunks, request.path, request.repo, middle)
    if family == INSTRUCT:
        chat = engine.render_chat(instruct_messages(fim, request.language))
        return BuiltPrompt(chat + instruct_reply_start(fim, request.language), family, fim, layout)
    return BuiltPrompt(format_for(family).build(fim), family, fim, layout)
