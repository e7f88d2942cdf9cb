"""Fill-in-the-middle prompt formats, one pure function per model family.

A format turns the text before and after the cursor into the exact prompt string the model
was trained on. The special tokens are spelled out as text; the engine tokenizes the prompt
with `special=True` so that they become single control tokens. llama-cpp-python's own
`suffix=` path is not used: its FIM token ids are hard-coded to 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FimFormat:
    family: str
    build: Callable[[str, str], str]
    # Text that ends a completion when it appears in the output.
    stop: tuple[str, ...]


def qwen_fim(prefix: str, suffix: str) -> str:
    return f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"


QWEN = FimFormat(
    family="qwen",
    build=qwen_fim,
    stop=(
        "<|endoftext|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
)

FORMATS: dict[str, FimFormat] = {QWEN.family: QWEN}


def format_for(family: str) -> FimFormat:
    return FORMATS[family]
