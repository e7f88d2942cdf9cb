"""Vision models, where the user has one: a multimodal GGUF with its projector (mmproj) run
in-process through llama-cpp-python's multimodal chat handlers, or an HTTP endpoint that takes
OpenAI-style `image_url` parts. The shipped models read text only; without either, images
reach a task as the text read from them (inference.ocr).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from inference.settings import BackendSettings, ModelSettings

# model.vision_handler: llama-cpp-python's handler classes. "auto" is libmtmd's generic
# handler, which reads the model's own chat template and serves every projector llama.cpp
# supports (Qwen2.5-VL, Gemma 3, SmolVLM, ...); the others are the older per-family ones.
HANDLERS = {
    "auto": "MTMDChatHandler",
    "llava-1-5": "Llava15ChatHandler",
    "llava-1-6": "Llava16ChatHandler",
    "moondream": "MoondreamChatHandler",
    "nanollava": "NanoLlavaChatHandler",
    "llama-3-vision-alpha": "Llama3VisionAlphaChatHandler",
    "minicpm-v-2.6": "MiniCPMv26ChatHandler",
    "qwen2.5-vl": "Qwen25VLChatHandler",
}
DESCRIBE_TOKENS = 300


class VisionUnavailable(RuntimeError):
    """The configured vision model cannot be used; the message says why."""


def chat_handler(settings: ModelSettings) -> Any:
    """The multimodal chat handler for `model.mmproj`, or None when none is configured."""
    if not settings.mmproj:
        return None
    path = Path(settings.mmproj).expanduser()
    if not path.is_file():
        raise VisionUnavailable(f"model.mmproj: no projector file at {path}")
    from llama_cpp import llama_chat_format

    handler = getattr(llama_chat_format, HANDLERS[settings.vision_handler])
    if settings.vision_handler == "auto":
        handler = _with_string_contents(handler)
    return handler(clip_model_path=str(path), verbose=True)


def _with_string_contents(handler: Any) -> Any:
    """libmtmd's generic handler renders the model's own chat template after turning each image
    part into a text part that holds the media marker. Many models' templates (Qwen2.5's among
    them) take a message's content only as one string and fail on a list of parts; once every
    part is text, joining them says the same to any template."""

    class StringContents(handler):
        @classmethod
        def _convert_message_for_template(cls, message: Any, media_marker: str) -> Any:
            converted = super()._convert_message_for_template(message, media_marker)
            parts = converted.get("content")
            if isinstance(parts, list) and all(
                isinstance(part, dict) and part.get("type") == "text" for part in parts
            ):
                converted["content"] = "\n".join(str(part.get("text", "")) for part in parts)
            return converted

    return StringContents


def vision_path(model: ModelSettings, backend: BackendSettings) -> str:
    """Which path images take to a model, as doctor and the status say it."""
    if backend.kind == "http" and backend.vision:
        return f"vision over HTTP: image_url parts to {backend.url}/v1/chat/completions"
    if backend.kind == "local" and model.mmproj:
        return f"vision in-process: projector {model.mmproj} ({model.vision_handler} handler)"
    return "no vision model: images reach tasks as the text read from them (OCR)"


def image_messages(question: str, data_uris: list[str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": question}]
    parts += [{"type": "image_url", "image_url": {"url": uri}} for uri in data_uris]
    return [{"role": "user", "content": parts}]


def describe_over_http(settings: BackendSettings, messages: list[dict[str, Any]]) -> str:
    """One non-streaming chat completion with image parts from an OpenAI-compatible server."""
    body: dict[str, Any] = {"messages": messages, "max_tokens": DESCRIBE_TOKENS,
                            "temperature": 0, "stream": False}  # fmt: skip
    if settings.model:
        body["model"] = settings.model
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        settings.url.rstrip("/") + "/v1/chat/completions", json.dumps(body).encode(), headers
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_ms / 1000) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise VisionUnavailable(f"the vision endpoint answered {exc.code}: {detail}") from None
    except (OSError, ValueError) as exc:
        raise VisionUnavailable(f"the vision endpoint failed: {exc}") from None
    try:
        return str(answer["choices"][0]["message"]["content"] or "").strip()
    except (KeyError, IndexError, TypeError):
        raise VisionUnavailable("the vision endpoint's answer has no message") from None
