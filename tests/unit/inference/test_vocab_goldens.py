"""FIM prompts through real tokenizers of other model families.

llama.cpp ships tokenizer-only GGUFs of several families (`models/ggml-vocab-*.gguf`), so
formats whose weights we do not install are checked against the real vocabularies: family
detection from the GGUF, every marker a single special token that is the GGUF's own FIM token,
BOS where the model expects it, and the exact token ids (goldens). Codestral's vocabulary is
Mistral's own tokenizer, CodeLlama's is Llama 2's plus its FIM tokens and CodeGemma's is Gemma's
plus its FIM tokens, built into GGUFs by tests.support.vocab_fixtures. `make test` fetches and
builds
them (`python -m tests.support.llama_sources`); elsewhere these tests skip unless
TREELLAMA_REQUIRE_FIXTURES is set."""

from __future__ import annotations

import os
import re

import pytest

from inference import vocab as vocabulary
from inference.fim import (
    CL_MID,
    CL_PRE,
    CL_SUF,
    DS_BEGIN,
    DS_END,
    DS_HOLE,
    FORMATS,
    INSTRUCT,
    ContextChunk,
    FimInput,
)
from tests.support.llama_sources import vocab

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
    # Exactly what Mistral's own `MistralTokenizer.encode_fim` (mistral-common 1.13.1) gives for
    # this prefix and suffix with Codestral's tokenizer: the suffix without SentencePiece's space.
    ("codestral", "codestral"): [
        1, 13, 781, 781, 2799, 29500, 1756, 29500, 29508, 29493, 29473, 29518, 1511, 781, 11,
        5247, 29491, 3602, 781, 2038, 21652, 29500, 29476, 2097, 781, 3055, 1372, 1032, 781, 781,
        2038, 1735, 29500, 29476, 29493, 1055, 2097, 781, 3055, 1372, 29473,
    ],
    # Meta's `infilling_prompt_tokens` layout: BOS, ▁<PRE>, the prefix as SentencePiece encodes
    # it, ▁<SUF>, the suffix without the leading space (13 is "\n", 29871 would be "▁"), ▁<MID>.
    ("codellama", "codellama"): [
        1, 32007, 3667, 29889, 2272, 13, 1753, 16876, 29898, 29874, 1125, 13, 1678, 736, 263, 13,
        13, 1753, 788, 29898, 29874, 29892, 289, 1125, 13, 1678, 736, 29871, 32008, 13, 13, 2158,
        29898, 1202, 29898, 29896, 29892, 29871, 29906, 876, 13, 32009,
    ],
    # Exactly what Hugging Face `tokenizers` 0.23.3 gives for this prompt with Gemma's
    # tokenizer.json whose unused ids 67-70 hold CodeGemma's FIM tokens (as CodeGemma's do).
    ("codegemma", "codegemma"): [
        2, 70, 1981, 235265, 2158, 108, 1293, 33583, 235278, 235250, 1245, 108, 141, 773, 476,
        108, 67, 1293, 1843, 235278, 235250, 235269, 518, 1245, 108, 141, 773, 235248, 69, 109,
        1431, 235278, 1254, 235278, 235274, 235269, 235248, 235284, 1269, 108, 68,
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
    "codellama": {"prefix": CL_PRE, "suffix": CL_SUF, "middle": CL_MID},
    "codegemma": {
        "prefix": "<|fim_prefix|>",
        "suffix": "<|fim_suffix|>",
        "middle": "<|fim_middle|>",
    },
}


def load(name: str):
    path = vocab(name)
    if path is None:
        if os.environ.get("TREELLAMA_REQUIRE_FIXTURES"):
            pytest.fail(
                f"ggml-vocab-{name}.gguf missing: run `python -m tests.support.llama_sources`"
            )
        pytest.skip("llama.cpp's vocab files are not here (python -m tests.support.llama_sources)")
    return vocabulary.load_vocab(path)


@pytest.mark.parametrize(("name", "family"), sorted(GOLDEN_IDS))
def test_prompt_tokenizes_to_the_golden_ids(name, family):
    llm = load(name)
    assert vocabulary.family_of(llm) == family
    fim_format = FORMATS[family]
    prompt = fim_format.build(FIM)
    tokens = vocabulary.prompt_tokens(llm, prompt, fim_format.bare_after)
    assert tokens == GOLDEN_IDS[(name, family)]
    # The tokens spell the prompt exactly, nothing lost or added but a BOS (and, in SentencePiece
    # vocabularies, the space before text that follows a marker, where the model expects one).
    spelled = "".join(vocabulary.token_text(llm, t) for t in tokens)
    assert spelled.endswith(spaced_after_markers(llm, prompt, fim_format))


def spaced_after_markers(llm, prompt: str, fim_format) -> str:
    metadata = llm.metadata
    if metadata.get("tokenizer.ggml.model") != "llama" or (
        metadata.get("tokenizer.ggml.add_space_prefix", "true") != "true"  # Gemma: none
    ):
        return prompt
    spaced = [m for m in fim_format.markers if m not in fim_format.bare_after]
    return re.sub("(" + "|".join(map(re.escape, spaced)) + r")(?=[\s\S])", r"\1 ", prompt)


def test_the_suffix_is_bare_only_where_the_reference_tokenizer_makes_it_so():
    """Without `bare_after`, llama.cpp puts "▁" before the suffix: the golden test can tell."""
    for name in ("codestral", "codellama"):
        llm = load(name)
        prompt = FORMATS[name].build(FIM)
        assert vocabulary.prompt_tokens(llm, prompt) != GOLDEN_IDS[(name, name)]
    # A suffix that starts with indentation keeps exactly its own spaces.
    codestral = FORMATS["codestral"]
    prompt = codestral.build(FimInput(prefix="x = 1\n", suffix="    return x\n"))
    tokens = vocabulary.prompt_tokens(load("codestral"), prompt, codestral.bare_after)
    # encode_fim's tokens: "▁▁▁" (3055) "▁return" (1372) right after [SUFFIX] (13), no extra "▁".
    assert tokens == [1, 13, 3055, 1372, 2086, 781, 11, 2086, 1095, 29473, 29508, 781]


def test_codestrals_markers_are_its_control_tokens():
    """llama.cpp does not know Codestral's FIM tokens; treellama finds them by their text."""
    llm = load("codestral")
    assert vocabulary.tokenize(llm, "[PREFIX]") == [11]
    assert vocabulary.tokenize(llm, "[SUFFIX]") == [13]
    assert vocabulary.fim_token_ids(llm) == {}


@pytest.mark.parametrize(("name", "family"), sorted(k for k in GOLDEN_IDS if k[1] in MARKERS))
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
