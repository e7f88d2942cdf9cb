"""Candidates from one prompt on the real default model: the greedy candidate, decoded with
the original text as a speculative draft and batched beside sampled ones, is exactly what
plain decoding gives; sampled candidates differ; the cache is left holding the prompt."""

from __future__ import annotations

import pytest

from inference.candidates import LOOKUP_TOKENS, DraftCursor

pytestmark = pytest.mark.e2e  # the real default model

CODE = '''def last_n(items, n):
    """The last n items of a list."""
    return items[-n - 1 :]
'''
MESSAGES = [
    {"role": "system", "content": "You are an expert programmer."},
    {
        "role": "user",
        "content": "last_n returns one item too many. Rewrite it, complete, in one "
        f"```python block.\n```python\n{CODE}```",
    },
]


def stop(text: str) -> bool:
    return "```" in text


def lookup(context: list[int], draft: list[int], limit: int = LOOKUP_TOKENS, near: int = 0):
    """What a cursor that lost its place near draft index `near` proposes after `context`."""
    cursor = DraftCursor(draft)
    cursor.position, cursor.following = near, False
    return cursor.propose(context, limit)


def test_lookup_proposes_what_followed_the_ngram_nearest_the_cursor():
    draft = [1, 2, 3, 4, 5, 1, 2, 3, 6, 7]
    assert lookup([9, 1, 2, 3], draft, limit=2) == [4, 5]  # (1, 2, 3) nearest the start
    assert lookup([9, 1, 2, 3], draft, limit=2, near=7) == [6, 7]  # ... and nearest index 7
    assert lookup([5, 1], draft) == []  # too short an n-gram to find the place by
    assert lookup([8, 8, 8], draft) == []


def test_the_cursor_follows_a_copy_and_finds_its_place_after_an_edit():
    draft = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    cursor = DraftCursor(draft)
    assert cursor.propose([], 3) == [10, 11, 12]  # the rewrite starts where the draft does
    for token in [10, 11, 12]:
        cursor.advance(token)
    assert cursor.propose([12], 2) == [13, 14]
    cursor.advance(99)  # an edit of one token for one: the copy rejoins at once
    cursor.advance(14)
    assert cursor.propose([99, 14], 2) == [15, 16]
    for token in [15, 77, 78, 79, 16, 17, 18]:  # an insertion: found again by its n-gram
        cursor.advance(token)
    assert cursor.propose([16, 17, 18], 4) == [19]


def test_greedy_candidate_with_a_draft_equals_plain_decoding(engine):
    prompt = engine.render_chat(MESSAGES) + "```python\n"
    plain = engine.generate(prompt, max_tokens=120, is_cancelled=lambda: False, should_stop=stop)
    (alone,), stats = engine.candidates(
        prompt, [0.0], max_tokens=120, is_cancelled=lambda: False, should_stop=stop, draft=CODE
    )
    assert alone.text == plain.text
    assert stats.drafted > 0 and stats.accepted > 0  # the draft was used, and mostly right
    together, _ = engine.candidates(
        prompt, [0.0, 1.0, 1.0], max_tokens=120, is_cancelled=lambda: False,
        should_stop=stop, draft=CODE, seed=3,
    )  # fmt: skip
    assert together[0].text == plain.text  # batched beside sampled ones, still the same
    assert len(together) == 3 and all(c.text.strip() for c in together)
    # The cache holds the prompt alone afterwards: a plain call reuses it and agrees.
    again = engine.generate(prompt, max_tokens=120, is_cancelled=lambda: False, should_stop=stop)
    assert again.text == plain.text and again.reused_tokens > 0


def test_candidates_give_way_to_another_job_and_carry_on_unchanged(engine):
    """A keystroke's completion runs in the middle (it overwrites the KV cache); the
    candidates' cells are rebuilt from their tokens: the greedy answer is as without it (a
    sampled one may differ, since rebuilt cells round differently and sampling is sensitive),
    and the cache holds the prompt afterwards."""
    prompt = engine.render_chat(MESSAGES) + "```python\n"
    never = lambda: False  # noqa: E731
    calm, _ = engine.candidates(
        prompt, [0.0, 1.0], max_tokens=60, is_cancelled=never, should_stop=stop, seed=5
    )
    asked = iter([False, False, False, True])
    interrupted, _ = engine.candidates(
        prompt, [0.0, 1.0], max_tokens=60, is_cancelled=never, should_stop=stop, seed=5,
        should_yield=lambda: next(asked, False),
        on_yield=lambda: engine.generate("def other():\n    return", max_tokens=5,
                                         is_cancelled=never),
    )  # fmt: skip
    assert interrupted[0].text == calm[0].text
    assert interrupted[1].text.startswith("def last_n(")
    again = engine.generate(prompt, max_tokens=60, is_cancelled=never, should_stop=stop)
    assert again.text == calm[0].text


def test_candidates_that_do_not_fit_the_context_side_by_side_run_in_later_batches(engine):
    """2,048 cells: a prompt and 4 candidates of 700 tokens each do not fit side by side, so
    they run 2 and 2, each with its whole budget; a candidate of the second batch is what it
    would be asked alone, with its own seed."""
    from inference.candidates import fitting_groups

    prompt = engine.render_chat(MESSAGES) + "```python\n"
    n_prompt = len(engine.tokenize(prompt))
    assert fitting_groups(4, 2048, n_prompt, 700) == [range(0, 2), range(2, 4)]
    never = lambda: False  # noqa: E731
    four, stats = engine.candidates(
        prompt, [0.0, 1.0, 1.0, 1.0], max_tokens=700, is_cancelled=never, should_stop=stop,
        seed=11,
    )  # fmt: skip
    assert len(four) == 4 and all(c.text.strip() for c in four)
    assert stats.generated_tokens == sum(c.generated_tokens for c in four)
    (alone,), _ = engine.candidates(
        prompt, [1.0], max_tokens=700, is_cancelled=never, should_stop=stop, seed=13
    )
    assert four[2].text == alone.text


def test_doubts_score_every_token_and_agree_with_greedy_decoding(engine):
    """One pass over the original after the prompt: each token's probability and the likeliest
    others. Where greedy decoding first departs from the original, the scorer's first doubt
    whose alternative outweighs the original names that same token; the cache holds the
    prompt afterwards."""
    prompt = engine.render_chat(MESSAGES) + "```python\n"
    never = lambda: False  # noqa: E731
    doubts = engine.doubts(prompt, CODE, never)
    assert "".join(d.text for d in doubts) == CODE
    assert all(0 < d.probability <= 1 and d.alternatives for d in doubts)
    assert all(d.text not in [text for text, _ in d.alternatives] for d in doubts)
    plain = engine.generate(prompt, max_tokens=60, is_cancelled=never, should_stop=stop)
    assert plain.reused_tokens > 0
    departs = next(d for d in doubts if d.alternatives[0][1] > d.probability)
    assert plain.text.startswith(CODE[: departs.offset] + departs.alternatives[0][0])


def test_doubts_give_way_to_another_job_and_score_the_same(engine):
    """A keystroke's completion runs between chunks (it overwrites the KV cache): the cells
    are rebuilt, and the scores come out as without it."""
    from inference import doubts as scoring

    prompt = engine.render_chat(MESSAGES) + "```python\n"
    never = lambda: False  # noqa: E731
    text = CODE * 3  # more than one chunk
    calm = engine.doubts(prompt, text, never)
    assert len(calm) > scoring.DECODE_CHUNK
    asked, ran = iter([True]), []
    interrupted = engine.doubts(
        prompt, text, never, should_yield=lambda: next(asked, False),
        on_yield=lambda: ran.append(engine.generate("def other():\n    return", max_tokens=5,
                                                    is_cancelled=never)),
    )  # fmt: skip
    assert len(ran) == 1
    assert [d.text for d in interrupted] == [d.text for d in calm]
    # Rebuilt cells round differently: the same scores, to within rounding.
    pairs = zip(interrupted, calm, strict=True)
    assert all(abs(a.probability - b.probability) < 0.02 for a, b in pairs)
