"""Checks behind `treellama doctor`: each one says what it found and, if it is a problem,
how to fix it."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from inference.model_manager import ModelUnavailable, resolve_model, verify_model
from inference.settings import BackendSettings, ModelSettings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_runtime() -> list[Check]:
    checks = [Check("python", True, platform.python_version())]
    try:
        import llama_cpp

        from inference.engine import gpu_offload_supported

        gpu = gpu_offload_supported()
        checks.append(Check("llama.cpp", True, f"llama-cpp-python {llama_cpp.__version__}"))
        checks.append(
            Check(
                "gpu offload",
                True,
                "available: model.n_gpu_layers=-1 offloads every layer"
                if gpu
                else "not built in: running on the CPU",
            )
        )
    except Exception as exc:
        checks.append(
            Check(
                "llama.cpp",
                False,
                f"llama-cpp-python cannot be imported: {exc}",
                "reinstall treellama (pip install --force-reinstall llama-cpp-python)",
            )
        )
    return checks


def check_model(settings: ModelSettings) -> list[Check]:
    try:
        model = resolve_model(settings)
        hashed = verify_model(model)
    except ModelUnavailable as exc:
        return [Check("model", False, exc.message, exc.fix)]
    size = model.path.stat().st_size
    checks = [
        Check("model", True, f"{model.name} at {model.path}"),
        Check("model size", True, f"{size:,} bytes ({size / 2**20:.0f} MiB)"),
        Check(
            "model hash",
            True,
            f"sha256 verified ({model.sha256})" if hashed else "no sha256 configured, not checked",
        ),
    ]
    try:
        from inference.engine import LlamaEngine

        info = LlamaEngine(model.path, settings).info
    except Exception as exc:
        checks.append(
            Check("model load", False, f"llama.cpp cannot load it: {exc}", "use a GGUF model file")
        )
        return checks
    checks.append(
        Check(
            "fim tokens",
            info.has_fim,
            ", ".join(f"{role}={token}" for role, token in info.fim_tokens.items())
            or (f"{info.family}'s markers" if info.has_fim else "none"),
            ""
            if info.has_fim
            else "completion falls back to an instruction prompt; a code model with FIM tokens "
            "completes better",
        )
    )
    checks.append(
        Check(
            "context length",
            True,
            f"trained {info.n_ctx_train:,} tokens, configured n_ctx {info.n_ctx:,}",
        )
    )
    checks.append(Check("model family", True, f"{info.architecture}, prompt format {info.family}"))
    checks.append(
        Check(
            "hardware",
            True,
            f"n_gpu_layers {info.gpu_layers} (setting {settings.n_gpu_layers}), "
            f"threads {info.n_threads}, n_batch {info.n_batch}, n_ubatch {info.n_ubatch}, "
            f"flash attention {info.flash_attn} (setting {settings.flash_attn})",
        )
    )
    return checks


def check_images(model: ModelSettings, backend: BackendSettings) -> list[Check]:
    """The OCR engine that reads images in tasks, and whether a vision model sees them."""
    from inference import ocr, vision

    try:
        info = ocr.engine_info()
        ok = ocr.LANGUAGE in info.languages
        reading = Check("image OCR", ok, info.describe(),
                        "install Debian's tesseract-ocr-eng (make ocr)")  # fmt: skip
    except ocr.OcrUnavailable as exc:
        reading = Check("image OCR", False, str(exc),
                        "apt install tesseract-ocr tesseract-ocr-eng (make ocr); until then "
                        "images in tasks are taken but no text is read from them")  # fmt: skip
    path = vision.vision_path(model, backend)
    projector_ok = not model.mmproj or Path(model.mmproj).expanduser().is_file()
    seeing = Check("image vision", projector_ok, path,
                   f"model.mmproj names no file: {model.mmproj}")  # fmt: skip
    return [reading, seeing]
