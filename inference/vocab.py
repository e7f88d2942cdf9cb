"""What a model's vocabulary says: how it tokenizes a prompt, and which FIM family it is.

Works on any `llama_cpp.Llama`, including one loaded with `vocab_only=True` (a few MB, no
weights), so the same code serves the engine and the tokenizer goldens in the tests."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from inference import llama_log
from inference.fim import detect_family


def tokenize(llm: Any, text: str) -> list[int]:
    """Tokens of a prompt, with special tokens spelled in it (FIM markers) parsed as such."""
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


# SentencePiece vocabularies put a space before text that starts the input or follows a special
# token. Where a model was trained without it, the text is tokenized behind this sentinel, whose
# tokens are then dropped: the reference tokenizers' own way (`encode_infilling`).
SENTINEL = "\u263a"


def tokenize_bare(llm: Any, text: str) -> list[int]:
    """Tokens of `text` without the leading space a SentencePiece vocabulary would add."""
    sentinel = tokenize(llm, SENTINEL)
    tokens = tokenize(llm, SENTINEL + text)
    if tokens[: len(sentinel)] != sentinel:  # the sentinel merged with the text: keep the space
        return tokenize(llm, text)
    return tokens[len(sentinel) :]


def prompt_tokens(llm: Any, text: str, bare_after: tuple[str, ...] = ()) -> list[int]:
    """Tokens of a whole prompt: with the vocabulary's BOS first when the model expects one
    (DeepSeek-Coder, CodeLlama) and the text does not already start with it (chat templates).
    Text right after a marker in `bare_after` gets no SentencePiece space (fim.FimFormat)."""
    import llama_cpp

    if bare_after:
        parts = re.split("(" + "|".join(map(re.escape, bare_after)) + ")", text)
        tokens = tokenize(llm, parts[0]) if parts[0] else []
        for marker, following in zip(parts[1::2], parts[2::2], strict=True):
            tokens += tokenize(llm, marker) + (tokenize_bare(llm, following) if following else [])
    else:
        tokens = tokenize(llm, text)
    vocab = llm._model.vocab
    if llama_cpp.llama_vocab_get_add_bos(vocab):
        bos = int(llama_cpp.llama_vocab_bos(vocab))
        if bos >= 0 and tokens[:1] != [bos]:
            tokens.insert(0, bos)
    return tokens


def token_text(llm: Any, token: int) -> str:
    """One token's text, special tokens spelled out. (llama-cpp-python's `token_to_piece`
    returns its whole 32-byte buffer, NUL padding included.)"""
    if token < 0:
        return ""
    return bytes(llm.detokenize([token], special=True)).decode("utf-8", errors="replace")


def has_special_token(llm: Any, text: str) -> bool:
    """True if `text` is one special token of this vocabulary (and not plain text)."""
    return len(tokenize(llm, text)) == 1 and len(llm.tokenize(text.encode(), special=False)) > 1


def fim_token_ids(llm: Any) -> dict[str, int]:
    """The FIM token ids llama.cpp found in the GGUF's metadata or vocabulary, by role."""
    import llama_cpp

    vocab = llm._model.vocab
    lookups = {
        "prefix": llama_cpp.llama_vocab_fim_pre,
        "suffix": llama_cpp.llama_vocab_fim_suf,
        "middle": llama_cpp.llama_vocab_fim_mid,
    }
    found = {}
    for role, lookup in lookups.items():
        token = int(lookup(vocab))
        if token >= 0:
            found[role] = token
    return found


def architecture(llm: Any) -> str:
    return str(llm.metadata.get("general.architecture", "unknown"))


def family_of(llm: Any) -> str:
    """The FIM prompt family for this model (inference.fim), or INSTRUCT."""
    return detect_family(architecture(llm), lambda text: has_special_token(llm, text))


def load_vocab(path: Path) -> Any:
    """A tokenizer-only Llama for a GGUF: loads in milliseconds, no weights in memory."""
    import llama_cpp

    llama_log.install()
    with contextlib.redirect_stderr(llama_log.LogWriter(llama_log.log)):
        return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=True)


def token_pieces(llm: Any) -> list[bytes]:
    """Every token's text as bytes, control tokens empty (inference.healing)."""
    import ctypes

    import llama_cpp

    vocab = llm._model.vocab
    buffer = (ctypes.c_char * 256)()
    pieces = []
    for token in range(llm.n_vocab()):
        length = llama_cpp.llama_token_to_piece(vocab, token, buffer, 256, 0, False)
        pieces.append(buffer.raw[:length] if length > 0 else b"")
    return pieces
