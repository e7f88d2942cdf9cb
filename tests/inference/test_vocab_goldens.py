"""FIM prompts through real tokenizers of other model families.

llama.cpp ships tokenizer-only GGUFs of several families (`models/ggml-vocab-*.gguf`), so
formats whose weights we do not install are checked against the real vocabularies: family
detection from the GGUF, every marker a single special token that is the GGUF's own FIM token,
BOS where the model expects it, and the exact token ids (goldens). `make test` fetches them
(`python -m bench.llama_sources`); elsewhere these tests skip unless
TREELLAMA_REQUIRE_FIXTURES is set."""

from __future__ import annotations

import os

import pytest

from bench.llama_sources import vocab
from inference import vocab as vocabulary
from inference.fim import DS_BEGIN, DS_END, DS_HOLE, FORMATS, INSTRUCT, ContextChunk, FimInput

FIM = FimInput(
    prefix="def add(a, b):\n    return ",
    suffix="\n\nprint(add(1, 2))\n",
    chunks=(ContextChunk("util.py", "def helper(a):\n    return a"),),
    path="main.py",
    repo="proj",
)

# Token ids of FORMATS[family].build(FIM), as each real tokenizer produces them.
GOLDEN_IDS = {
    # StarCoder2's vocabulary (llama.cpp's "starcoder" vocab file is StarCoder2's).
    ("starcoder", "starcoder2"): [
        5, 11044, 6, 1058, 51, 997, 222, 610, 9348, 45, 102, 731, 303, 461, 331, 222, 6, 1850,
        51, 997, 222, 1, 610, 1035, 45, 102, 49, 342, 731, 303, 461, 244, 3, 222, 222, 1243,
        45, 688, 45, 54, 49, 244, 55, 509, 222, 2,
    ],
    # Refact: StarCoder's original markers, suffix first.
    ("refact", "refact"): [
        3, 203, 203, 1216, 26, 669, 26, 35, 30, 225, 36, 490, 203, 1, 1040, 32, 978, 203, 589,
        9332, 26, 83, 711, 284, 442, 312, 203, 203, 589, 1015, 26, 83, 30, 323, 711, 284, 442,
        225, 2,
    ],
    ("deepseek-coder", "deepseek"): [
        32013, 32016, 2303, 13, 4016, 185, 1551, 30365, 7, 64, 1772, 185, 315, 967, 245, 185,
        185, 1551, 957, 7, 64, 11, 270, 1772, 185, 315, 967, 207, 32015, 185, 185, 4128, 7,
        1761, 7, 16, 11, 207, 17, 1435, 185, 32017,
    ],
}  # fmt: skip

MARKERS = {
    "starcoder2": {"prefix": "<fim_prefix>", "suffix": "<fim_suffix>", "middle": "<fim_middle>"},
    "refact": {"prefix": "<fim_prefix>", "suffix": "<fim_suffix>", "middle": "<fim_middle>"},
    "deepseek": {"prefix": DS_BEGIN, "suffix": DS_HOLE, "middle": DS_END},
}


def load(name: str):
    path = vocab(name)
    if path is None:
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail(f"ggml-vocab-{name}.gguf missing: run `python -m bench.llama_sources`")
        pytest.skip("llama.cpp's vocab files are not here (python -m bench.llama_sources)")
    return vocabulary.load_vocab(path)


@pytest.mark.parametrize(("name", "family"), sorted(GOLDEN_IDS))
def test_prompt_tokenizes_to_the_golden_ids(name, family):
    llm = load(name)
    assert vocabulary.family_of(llm) == family
    prompt = FORMATS[family].build(FIM)
    tokens = vocabulary.prompt_tokens(llm, prompt)
    assert tokens == GOLDEN_IDS[(name, family)]
    # The tokens spell the prompt exactly, nothing lost or added but a BOS.
    assert "".join(vocabulary.token_text(llm, t) for t in tokens).endswith(prompt)


@pytest.mark.parametrize(("name", "family"), sorted(GOLDEN_IDS))
def test_markers_are_the_ggufs_own_fim_tokens(name, family):
    llm = load(name)
    fim_ids = vocabulary.fim_token_ids(llm)
    for role, marker in MARKERS[family].items():
        assert vocabulary.has_special_token(llm, marker)
        assert vocabulary.tokenize(llm, marker) == [fim_ids[role]]


def test_every_marker_of_the_starcoder_families_is_one_token():
    starcoder2, refact = load("starcoder"), load("refact")
    for marker in (*FORMATS["starcoder2"].markers, "<|endoftext|>"):
        assert vocabulary.has_special_token(starcoder2, marker), marker
    # StarCoder (1) shares Refact's vocabulary and its `<filename>` file marker.
    for marker in (*FORMATS["starcoder"].markers, "<filename>"):
        assert vocabulary.has_special_token(refact, marker), marker


def test_bos_is_added_once_only_where_the_model_expects_it():
    deepseek, starcoder2 = load("deepseek-coder"), load("starcoder")
    bos = vocabulary.token_text(deepseek, deepseek.token_bos())
    assert bos == "<\uff5cbegin\u2581of\u2581sentence\uff5c>"  # no NUL padding
    assert vocabulary.prompt_tokens(deepseek, "x")[:1] == [deepseek.token_bos()]
    # A chat template that already starts with BOS does not get a second one.
    assert vocabulary.prompt_tokens(deepseek, bos + "x") == vocabulary.tokenize(deepseek, bos + "x")
    assert vocabulary.prompt_tokens(starcoder2, "x") == vocabulary.tokenize(starcoder2, "x")


@pytest.mark.parametrize("name", ["qwen2", "gemma-4", "llama-spm"])
def test_models_without_fim_tokens_fall_back_to_the_instruction_prompt(name):
    assert vocabulary.family_of(load(name)) == INSTRUCT
