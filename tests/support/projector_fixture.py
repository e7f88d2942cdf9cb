"""A random-weight LLaVA projector (an mmproj GGUF) for a text model, for the in-process vision
path's tests: llama.cpp's libmtmd loads it through llama-cpp-python's multimodal chat handler,
encodes an image into embeddings, and the text model reads them, exactly as with a trained
vision model. No trained projector exists for Qwen2.5-Coder and none small ships in a registry
package, so its weights are random: the model's words about an image mean nothing; what a test
can check is that the image went through the encoder into the model, and what that costs.

The file is written with llama.cpp's own gguf-py (from the llama-cpp-python sdist, as
tests.support.vocab_fixtures does), in the layout of llama.cpp's LLaVA converter: a CLIP-style
vision
tower (patch embedding, class embedding, positions, pre-norm blocks) and a two-layer MLP
projector ("mlp") whose output width is the text model's embedding width.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.llama_sources import gguf_py

IMAGE_SIZE = 56  # pixels a side: 4 x 4 patches
PATCH_SIZE = 14
VISION_WIDTH = 64
VISION_FF = 128
VISION_HEADS = 4
# The LLaVA graph reads the second-to-last block's output, so two blocks run one.
VISION_BLOCKS = 2
PROJECTION_WIDTH = 128
# Large enough that an image's pixels change what the model says (at 0.02 its embeddings are
# too faint: a dialog and a blank image got the same words).
WEIGHT_SCALE = 0.2


def patches_per_image() -> int:
    """How many embeddings (positions in the text model) one image becomes."""
    return (IMAGE_SIZE // PATCH_SIZE) ** 2


def _tensors(np: Any, text_width: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> Any:  # numpy shapes are ggml's ne reversed: (out, in)
        return (rng.standard_normal(shape) * WEIGHT_SCALE).astype(np.float32)

    def ones(width: int) -> Any:
        return np.ones(width, dtype=np.float32)

    def zeros(width: int) -> Any:
        return np.zeros(width, dtype=np.float32)

    width = VISION_WIDTH
    tensors: dict[str, Any] = {
        # A convolution kernel over RGB patches; llama.cpp's converter writes it as f16.
        "v.patch_embd.weight": weight(width, 3, PATCH_SIZE, PATCH_SIZE).astype(np.float16),
        "v.class_embd": weight(width),
        "v.position_embd.weight": weight(patches_per_image() + 1, width),
        "v.pre_ln.weight": ones(width),
        "v.pre_ln.bias": zeros(width),
    }
    for block in range(VISION_BLOCKS):
        prefix = f"v.blk.{block}"
        for part in ("attn_q", "attn_k", "attn_v", "attn_out"):
            tensors[f"{prefix}.{part}.weight"] = weight(width, width)
            tensors[f"{prefix}.{part}.bias"] = zeros(width)
        for norm in ("ln1", "ln2"):
            tensors[f"{prefix}.{norm}.weight"] = ones(width)
            tensors[f"{prefix}.{norm}.bias"] = zeros(width)
        tensors[f"{prefix}.ffn_up.weight"] = weight(VISION_FF, width)
        tensors[f"{prefix}.ffn_up.bias"] = zeros(VISION_FF)
        tensors[f"{prefix}.ffn_down.weight"] = weight(width, VISION_FF)
        tensors[f"{prefix}.ffn_down.bias"] = zeros(width)
    tensors["mm.0.weight"] = weight(PROJECTION_WIDTH, width)
    tensors["mm.0.bias"] = zeros(PROJECTION_WIDTH)
    tensors["mm.2.weight"] = weight(text_width, PROJECTION_WIDTH)
    tensors["mm.2.bias"] = zeros(text_width)
    return tensors


def text_width_of(model: Path) -> int:
    """The embedding width of a text model's GGUF, read from its metadata (no weights loaded)."""
    reader = gguf_py().GGUFReader(model)
    architecture = reader.fields["general.architecture"].contents()
    return int(reader.fields[f"{architecture}.embedding_length"].contents())


def write_projector(path: Path, text_width: int, seed: int = 0) -> Path:
    """Writes the projector for a text model whose embeddings are `text_width` wide."""
    import numpy as np

    gguf = gguf_py()
    scratch = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(scratch, "clip")
    writer.add_name("treellama test projector (random weights)")
    writer.add_bool("clip.has_vision_encoder", True)
    writer.add_string("clip.projector_type", "mlp")
    writer.add_bool("clip.use_gelu", True)
    for key, value in {
        "embedding_length": VISION_WIDTH,
        "feed_forward_length": VISION_FF,
        "block_count": VISION_BLOCKS,
        "projection_dim": PROJECTION_WIDTH,
        "attention.head_count": VISION_HEADS,
        "image_size": IMAGE_SIZE,
        "patch_size": PATCH_SIZE,
    }.items():
        writer.add_uint32(f"clip.vision.{key}", value)
    writer.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    writer.add_array("clip.vision.image_mean", [0.48145466, 0.4578275, 0.40821073])
    writer.add_array("clip.vision.image_std", [0.26862954, 0.26130258, 0.27577711])
    for name, data in _tensors(np, text_width, seed).items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    scratch.replace(path)
    return path
