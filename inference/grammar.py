"""Greedy decoding under a GBNF grammar, fast.

llama.cpp's grammar sampler checks every candidate token against the grammar: over a 150k
vocabulary that costs seconds a token. Like llama.cpp's own common sampler, this first asks
the grammar about the single best token alone, and filters the whole vocabulary only when the
grammar rejects it (at structural points of the output, a few tokens in a call).
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np


class GrammarChooser:
    def __init__(self, vocab: Any, grammar: str, root: str = "root") -> None:
        import llama_cpp

        self._llama = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar.encode("utf-8"), root.encode("utf-8")
        )
        if not self._sampler:
            raise ValueError("llama.cpp rejected the grammar")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._full: Any = None
        self.full_checks = 0

    def close(self) -> None:
        if self._sampler:
            self._llama.llama_sampler_free(self._sampler)
            self._sampler = None

    def __del__(self) -> None:
        self.close()

    def accept(self, token: int) -> None:
        self._llama.llama_sampler_accept(self._sampler, token)

    def _apply(self, data: Any, size: int) -> None:
        array = self._llama.llama_token_data_array(data=data, size=size, selected=-1, sorted=False)
        self._llama.llama_sampler_apply(self._sampler, ctypes.byref(array))

    def choose(self, logits: np.ndarray) -> int:
        """The most likely token that the grammar allows next; the grammar then accepts it."""
        token = int(logits.argmax())
        self._one[0].id = token  # type: ignore[assignment]
        self._one[0].logit, self._one[0].p = float(logits[token]), 0.0
        self._apply(self._one, 1)
        if not math.isinf(self._one[0].logit):
            self.accept(token)
            return token
        self.full_checks += 1
        n_vocab = len(logits)
        if self._full is None or len(self._full) != n_vocab:
            self._full = (self._llama.llama_token_data * n_vocab)()
        view = np.ctypeslib.as_array(self._full).view(
            np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
        )
        view["id"] = np.arange(n_vocab, dtype=np.int32)
        view["logit"] = logits
        view["p"] = 0.0
        self._apply(self._full, n_vocab)
        token = int(view["logit"].argmax())
        self.accept(token)
        return token
