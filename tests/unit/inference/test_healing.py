"""Token healing over a small made-up vocabulary (the real one: tests/e2e/inference)."""

import numpy as np

from inference.healing import TokenHealer

PIECES = [b"", b"   ", b"    ", b" return", b"return", b" x", b"re", b"\n", b" "]


def test_the_last_token_is_taken_back_only_when_it_lies_in_the_line():
    healer = TokenHealer(PIECES)
    assert healer.take_back([7, 2], "    ") == ([7], b"    ")
    assert healer.take_back([7, 2], "") == ([7, 2], b"")
    assert healer.take_back([7, 3], "  x") == ([7, 3], b"")  # " return" is not in the line
    assert healer.take_back([2], "    ") == ([2], b"")  # nothing would be left


def test_the_first_tokens_spell_the_taken_back_text_in_the_split_the_model_prefers():
    healer = TokenHealer(PIECES)
    assert set(healer.allowed(b"    ").tolist()) == {1, 2, 8}  # "   ", "    ", " " start it
    assert set(healer.allowed(b" ").tolist()) == {1, 2, 3, 5, 8}
    logits = np.zeros(len(PIECES))
    logits[1] = 5.0  # the model prefers three spaces, then " return"
    logits[4] = 9.0  # but "return" does not spell the four spaces
    assert healer.choose(logits, b"    ") == 1
    logits[3] = 7.0
    assert healer.choose(logits, b" ") == 3
