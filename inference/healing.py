"""Token healing for prompts that end inside the text the model is about to write.

In the line layout (inference.fim) the prompt ends with the cursor's line, so its last token is
whatever the tokenizer made of a partial line: "    " where the model would write "   " and then
" return", or "retu" where it would write " return". Left alone, the model continues from a
token boundary it never saw in training, and a small model writes " return" after the four
spaces. So, as guidance's token healing does, the prompt's last token is taken back and the
first tokens generated are constrained to spell out its text again, in whatever split the model
prefers; the text it spells beyond that is the suggestion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TokenHealer:
    def __init__(self, pieces: Sequence[bytes]) -> None:
        """`pieces[token]` is the token's text as bytes (empty for control tokens)."""
        self._pieces = list(pieces)
        self._table = np.array(self._pieces, dtype="S")
        self._by_bytes: dict[bytes, int] = {}
        for token, piece in enumerate(self._pieces):
            if piece:
                self._by_bytes.setdefault(piece, token)

    def piece(self, token: int) -> bytes:
        return self._pieces[token] if 0 <= token < len(self._pieces) else b""

    def allowed(self, remaining: bytes) -> np.ndarray:
        """The tokens that may come next while `remaining` is still to be spelled: those that
        start with all of it, and those that spell a start of it."""
        starts = np.flatnonzero(np.char.startswith(self._table, remaining))
        heads = [
            self._by_bytes[remaining[:k]]
            for k in range(1, len(remaining))
            if remaining[:k] in self._by_bytes
        ]
        return np.union1d(starts, np.array(heads, dtype=starts.dtype))

    def take_back(self, prompt: list[int], tail: str) -> tuple[list[int], bytes]:
        """The prompt without its last token when that token lies within `tail` (the text the
        prompt ends with that the model may rewrite), and the bytes to spell again."""
        if not tail or len(prompt) < 2:
            return prompt, b""
        last = self.piece(prompt[-1])
        if not last or not tail.encode("utf-8").endswith(last):
            return prompt, b""
        return prompt[:-1], last

    def choose(self, logits: np.ndarray, remaining: bytes) -> int:
        """The most likely token that keeps spelling `remaining`."""
        allowed = self.allowed(remaining)
        return int(allowed[int(np.argmax(logits[allowed]))])
