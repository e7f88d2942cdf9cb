"""Typed settings that the inference services take. Parsed and validated in lsp_server.config;
`metadata` on each field carries the bounds the parser enforces."""

from __future__ import annotations

from dataclasses import dataclass, field

from inference.fim import FORMATS, INSTRUCT
from inference.registry import DEFAULT_MODEL, MODELS


@dataclass(frozen=True)
class ModelSettings:
    # A registered model name (see `treellama model list`); ignored when `path` is set.
    name: str = field(default=DEFAULT_MODEL, metadata={"choices": tuple(MODELS)})
    # Your own GGUF file. Takes precedence over `name`.
    path: str = ""
    # Optional sha256 to verify `path` against before loading it.
    sha256: str = field(default="", metadata={"pattern": r"^([0-9a-fA-F]{64})?$"})
    n_ctx: int = field(default=4096, metadata={"min": 256, "max": 1 << 20})
    # 0 lets llama.cpp pick (the number of physical cores).
    n_threads: int = field(default=0, metadata={"min": 0, "max": 1024})
    n_batch: int = field(default=512, metadata={"min": 16, "max": 1 << 16})
    n_ubatch: int = field(default=512, metadata={"min": 16, "max": 1 << 16})
    # "auto": off when the model runs on the CPU (llama.cpp's CPU flash attention takes a slow
    # path for batches under 64 tokens: decoding, candidates, drafts), llama.cpp's choice when
    # layers are offloaded to a GPU; "on" or "off" force it.
    flash_attn: str = field(default="auto", metadata={"choices": ("auto", "on", "off")})
    # -1 offloads every layer when llama.cpp was built with a GPU backend, else none.
    n_gpu_layers: int = field(default=-1, metadata={"min": -1, "max": 10_000})
    # A multimodal GGUF's projector (mmproj), for the user's own vision model in `path`: images
    # in tasks then go to the model itself as well as their text read by OCR.
    mmproj: str = ""
    # llama-cpp-python's chat handler for it; "auto" is libmtmd's, for any projector it reads.
    vision_handler: str = field(
        default="auto",
        metadata={"choices": ("auto", "llava-1-5", "llava-1-6", "moondream", "nanollava",
                              "llama-3-vision-alpha", "minicpm-v-2.6", "qwen2.5-vl")},
    )  # fmt: skip


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = True
    max_tokens: int = field(default=96, metadata={"min": 1, "max": 4096})
    max_lines: int = field(default=8, metadata={"min": 1, "max": 500})
    # After code on the cursor's line the suggestion completes that line only (Copilot's way);
    # several lines come at the start of a line. A keystroke then decodes a line's tokens,
    # not a second of them (bench/README.md, latency).
    one_line_after_code: bool = True
    prefix_lines: int = field(default=256, metadata={"min": 1, "max": 100_000})
    suffix_lines: int = field(default=64, metadata={"min": 0, "max": 100_000})
    # At most this many tokens of the suffix (whole lines). Every keystroke re-evaluates the
    # suffix, since its cached cells describe the old text before it.
    suffix_tokens: int = field(default=256, metadata={"min": 0, "max": 1 << 20})
    # Prompt processing gives up after this long (0: never) and finishes in the background,
    # so the next keystroke finds the prompt cached. Like llama.vim's t_max_prompt_ms.
    max_prompt_ms: int = field(default=1500, metadata={"min": 0, "max": 600_000})
    # Generation returns what it has after this long. Like llama.vim's t_max_predict_ms.
    max_predict_ms: int = field(default=1000, metadata={"min": 10, "max": 600_000})
    # Tokens of extra context (other files, yanks, the index) in the prompt; 0 turns it off.
    context_tokens: int = field(default=1024, metadata={"min": 0, "max": 1 << 20})
    # Where the cursor's line goes in the prompt (inference.fim): "line" after the middle
    # marker, as llama.vim does, so that a keystroke re-reads only that line (4 to 8 times as
    # fast on 2 cores); "cursor" splits the prompt at the cursor, so that a keystroke re-reads
    # the suffix. "auto" is "cursor": "line" lost more than a point of exact match in one of
    # the quality benchmarks for each model while gaining in another (bench/README.md).
    prompt_layout: str = field(default="auto", metadata={"choices": ("auto", "line", "cursor")})
    # "auto" detects the family from the model; or one of inference.fim.FORMATS, or "instruct".
    prompt_format: str = field(default="auto", metadata={"choices": ("auto", *FORMATS, INSTRUCT)})
    # Suggestions decoded side by side, from one prompt, when the user asks for completion
    # (VS Code's Alt+] / Alt+[, the Neovim plugin's cycle keys); while typing it is always one.
    suggestions: int = field(default=3, metadata={"min": 1, "max": 8})
    # Answer from recent suggestions when the user types what was suggested.
    cache: bool = True
    # After a suggestion, compute the one that would follow it, in the background.
    speculative: bool = True


@dataclass(frozen=True)
class BackendSettings:
    # "local" runs the model in-process; "http" sends completions to a model server at `url`.
    kind: str = field(default="local", metadata={"choices": ("local", "http")})
    url: str = ""
    api: str = field(
        default="openai-completions",
        metadata={"choices": ("infill", "completion", "openai-completions", "openai-chat")},
    )
    model: str = ""  # the model name the server expects, if any
    # The prompt format of the served model, for the raw-prompt APIs.
    family: str = field(
        default="qwen",
        metadata={"choices": ("qwen", "starcoder2", "starcoder", "codellama", "deepseek",
                              "codestral", "codegemma")},
    )  # fmt: skip
    n_ctx: int = field(default=8192, metadata={"min": 256, "max": 1 << 20})
    # The name of an environment variable holding an API key; never the key itself.
    api_key_env: str = ""
    timeout_ms: int = field(default=30_000, metadata={"min": 100, "max": 600_000})
    # The served model sees images: tasks' images go to it as OpenAI `image_url` parts
    # (POST /v1/chat/completions), beside the text read from them.
    vision: bool = False


@dataclass(frozen=True)
class PathSettings:
    # Models, statistics, indexes and task copies; empty: the platform's cache folder
    # (~/.cache/treellama on Linux).
    cache_dir: str = field(default="", metadata={"env": "TREELLAMA_CACHE_DIR"})
    # The code index databases; empty: <cache_dir>/index.
    index_dir: str = field(default="", metadata={"env": "TREELLAMA_INDEX_DIR"})
    # Completion statistics (kept on this machine only); empty: <cache_dir>/stats.jsonl.
    stats_file: str = field(default="", metadata={"env": "TREELLAMA_STATS_FILE"})
    # Agent task copies and logs; empty: <cache_dir>/agent.
    agent_dir: str = field(default="", metadata={"env": "TREELLAMA_AGENT_DIR"})
