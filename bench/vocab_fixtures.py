"""Tokenizer-only GGUFs for FIM families that llama.cpp ships no vocabulary file of, built the way
llama.cpp's converter builds them (its own gguf-py, from the llama-cpp-python sdist):

- `codestral`: Codestral-22B-v0.1's SentencePiece tokenizer (Mistral's v3,
  `mistral_instruct_tokenizer_240323.model.v3`), as Mistral publishes it in the `mistral-common`
  wheel on PyPI (only that file is taken; the package is not installed);
- `codellama`: Llama 2's vocabulary (llama.cpp's `ggml-vocab-llama-spm.gguf`) with CodeLlama's
  FIM tokens at the ids llama.cpp's converter gives them (32007-32010, spelled with U+2581 as its
  FIM detection expects). CodeLlama's eight other added ids are placeholders: no CodeLlama
  tokenizer can be downloaded here.

    python -m bench.vocab_fixtures      # `make test` runs it through bench.llama_sources
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from inference.fim import CL_EOT, CL_MID, CL_PRE, CL_SUF
from inference.paths import cache_dir

MISTRAL_COMMON = "mistral-common==1.13.1"
MISTRAL_V3 = "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"
CODELLAMA_FIM = dict(zip(range(32007, 32011), (CL_PRE, CL_SUF, CL_MID, CL_EOT), strict=True))
CODELLAMA_VOCAB_SIZE = 32016


def fixtures_dir() -> Path:
    from bench.llama_sources import version

    return cache_dir() / "vocab" / version()


def built_vocab(name: str) -> Path | None:
    path = fixtures_dir() / f"ggml-vocab-{name}.gguf"
    return path if path.is_file() else None


def _gguf() -> Any:
    from bench.llama_sources import ensure_sources, llama_cpp_dir

    ensure_sources()
    sys.path.insert(0, str(llama_cpp_dir() / "gguf-py"))
    import gguf

    return gguf


def _write(gguf: Any, path: Path, name: str, tokens: list[tuple[bytes, float, int]],
           special: dict[str, int], hparams: dict[str, Any]) -> None:  # fmt: skip
    """A vocab-only GGUF (no tensors) for the `llama` architecture, atomically."""
    scratch = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(scratch, "llama")
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
    writer.add_add_space_prefix(True)  # SentencePiece's add_dummy_prefix, on in both
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    scratch.rename(path)


def build_codestral(target: Path) -> None:
    gguf = _gguf()
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
    gguf = _gguf()
    from bench.llama_sources import vocab

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


BUILDERS = {"codestral": build_codestral, "codellama": build_codellama}


def ensure_vocabs() -> dict[str, Path]:
    """Builds what is missing (seconds; one pip download); returns every fixture's path."""
    fixtures_dir().mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in BUILDERS.items():
        path = fixtures_dir() / f"ggml-vocab-{name}.gguf"
        if not path.is_file():
            build(path)
        paths[name] = path
    return paths


if __name__ == "__main__":
    for name, path in ensure_vocabs().items():
        print(f"{name}: {path}")
