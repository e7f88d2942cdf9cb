"""An engine that talks to a model server over HTTP, for users who outgrow one process.

It has the local engine's interface (info, count_tokens, render_chat, generate, prefill), so the
completion service cannot tell them apart. Four APIs:

- `infill`: llama-server's /infill (the server formats the FIM prompt; context chunks go in
  `input_extra`, the cursor's line in `prompt`, which the server puts before the suffix);
- `completion`: llama-server's /completion with our FIM prompt (`cache_prompt` on);
- `openai-completions`: /v1/completions with our FIM prompt (vLLM, Ollama, llama-server,
  llama_cpp.server);
- `openai-chat`: /v1/chat/completions with an instruction to fill the hole, for chat models.

Responses are streamed (server-sent events), so cancellation and the time caps act between
chunks: closing the connection stops the server's generation. Only the configured URL is
contacted. Token counts are estimated (about 3.5 characters per token), since the OpenAI API
has no tokenizer endpoint; budgets therefore keep a margin.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from inference import vision
from inference.backend import Generation, GenerationCancelled
from inference.fences import closes, opening_fence
from inference.fim import FimInput, hole_messages
from inference.settings import BackendSettings

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class _Checks:
    """What may stop a streamed generation between pieces, in the order it is checked."""

    is_cancelled: Callable[[], bool]
    should_stop: Callable[[str], bool]
    should_yield: Callable[[], bool]
    max_predict_s: float | None

    def stop_reason(self, visible: str, first_at: float) -> str:
        if self.is_cancelled():
            return "cancelled"
        if self.should_stop(visible):
            return "stop"
        if self.max_predict_s is not None and time.monotonic() - first_at > self.max_predict_s:
            return "deadline"
        return "yielded" if self.should_yield() else ""


class BackendUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class HttpModelInfo:
    path: str
    architecture: str
    family: str
    n_ctx: int
    n_ctx_train: int
    gpu_layers: int = 0
    fim_tokens: tuple[()] = ()
    n_params: int = 0  # a remote model's size is not known

    @property
    def has_fim(self) -> bool:
        return self.family != "instruct"


def _sse_events(response: Any) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent-event stream (`data: {...}` lines)."""
    for raw in response:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            log.debug("ignoring a malformed event: %.200s", data)


def strip_fence(text: str) -> str:
    """Chat models often wrap code in a markdown fence despite being told not to. The block
    ends at its closing fence (CommonMark), not at a docstring's own."""
    stripped = text.lstrip()
    if not stripped.startswith("```"):
        return text
    opening, _, body = stripped.partition("\n")
    lines = body.split("\n")
    end = next((row for row, line in enumerate(lines) if closes(line, opening_fence(opening))),
               len(lines))  # fmt: skip
    return "\n".join(lines[:end]).rstrip("\n")


def _text_of(api: str, event: dict[str, Any]) -> tuple[str, bool]:
    """The new text in an event, and whether the server says it is the last one."""
    if api in ("infill", "completion"):
        return str(event.get("content", "")), bool(event.get("stop"))
    choices = event.get("choices") or [{}]
    choice = choices[0]
    finished = choice.get("finish_reason") is not None
    if api == "openai-chat":
        return str((choice.get("delta") or {}).get("content") or ""), finished
    return str(choice.get("text") or ""), finished


class HttpEngine:
    def __init__(self, settings: BackendSettings) -> None:
        if not settings.url:
            raise BackendUnavailable("backend.url is not set")
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.info = HttpModelInfo(
            path=self.base,
            architecture=f"http ({settings.api})",
            family="instruct" if settings.api == "openai-chat" else settings.family,
            n_ctx=settings.n_ctx,
            n_ctx_train=settings.n_ctx,
        )
        self._check_reachable()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.settings.api_key_env:
            key = os.environ.get(self.settings.api_key_env, "")
            if key:
                headers["Authorization"] = f"Bearer {key}"
        return headers

    def _check_reachable(self) -> None:
        path = "/health" if self.settings.api in ("infill", "completion") else "/v1/models"
        request = urllib.request.Request(self.base + path, headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_ms / 1000):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise BackendUnavailable(f"{self.base}{path} answered {exc.code}") from None
        except OSError as exc:
            raise BackendUnavailable(f"cannot reach {self.base}: {exc}") from None

    @property
    def sees_images(self) -> bool:
        return self.settings.vision

    def describe(self, messages: list[dict[str, Any]]) -> str:
        """A reply to messages with `image_url` parts (backend.vision)."""
        return vision.describe_over_http(self.settings, messages)

    def count_tokens(self, text: str) -> int:
        return int(len(text) / CHARS_PER_TOKEN) + 1

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        # The chat API takes the messages themselves; see generate().
        return json.dumps(messages)

    def prefill(
        self, prompt_text: str, is_cancelled: Callable[[], bool], core_marker: str | None = None,
        prefix_end_marker: str | None = None,
    ) -> int:  # fmt: skip
        return 0  # the server keeps its own cache (cache_prompt)

    def _payload(self, prompt_text: str, fim: FimInput | None, max_tokens: int) -> tuple[str, dict]:
        api = self.settings.api
        common: dict[str, Any] = {"temperature": 0.0, "stream": True}
        if self.settings.model:
            common["model"] = self.settings.model
        if api == "infill":
            assert fim is not None, "the infill API needs the FIM parts"
            extra = [{"filename": c.path, "text": c.text} for c in fim.chunks]
            # `prompt` gets the cursor's line in the line layout, as llama.vim sends it. The
            # server appends it to the prefix, before FIM_SUF (its format_infill), so a
            # keystroke still reads the suffix again unless it runs with --cache-reuse; the
            # raw-prompt APIs carry the line after the middle marker instead.
            return "/infill", {
                **common, "input_prefix": fim.prefix, "input_suffix": fim.suffix,
                "prompt": fim.middle, "input_extra": extra, "n_predict": max_tokens,
                "cache_prompt": True,
            }  # fmt: skip
        if api == "completion":
            return "/completion", {
                **common, "prompt": prompt_text, "n_predict": max_tokens, "cache_prompt": True,
            }  # fmt: skip
        if api == "openai-chat":
            assert fim is not None, "the chat API needs the FIM parts"
            return "/v1/chat/completions", {
                **common, "messages": hole_messages(fim), "max_tokens": max_tokens,
            }  # fmt: skip
        return "/v1/completions", {**common, "prompt": prompt_text, "max_tokens": max_tokens}

    def _stream(
        self, request: urllib.request.Request, path: str, timeout: float, checks: _Checks
    ) -> tuple[str, int, str, float | None]:
        """Reads the server's streamed reply until it ends or a check stops it: (text,
        pieces, why it stopped, when the first piece came)."""
        first_at: float | None = None
        text, pieces = "", 0
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                for event in _sse_events(response):
                    piece, last = _text_of(self.settings.api, event)
                    first_at = first_at or time.monotonic()
                    text += piece
                    pieces += 1 if piece else 0
                    visible = strip_fence(text) if self.settings.api == "openai-chat" else text
                    reason = "eog" if last else checks.stop_reason(visible, first_at)
                    if reason:
                        return text, pieces, reason, first_at
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise BackendUnavailable(f"{self.base}{path} answered {exc.code}: {detail}") from None
        except TimeoutError:
            return text, pieces, "prompt_timeout" if first_at is None else "deadline", first_at
        except OSError as exc:
            raise BackendUnavailable(f"{self.base}{path}: {exc}") from None
        return text, pieces, "max_tokens", first_at

    def generate(
        self,
        prompt_text: str,
        *,
        max_tokens: int,
        is_cancelled: Callable[[], bool],
        should_stop: Callable[[str], bool] = lambda text: False,
        max_prompt_s: float | None = None,
        max_predict_s: float | None = None,
        core_marker: str | None = None,
        should_yield: Callable[[], bool] = lambda: False,
        fim: Any = None,
        background: bool = False,
        grammar: str | None = None,
        grammar_accepted: str = "",
        heal: str = "",  # servers tokenize the prompt themselves: no healing over HTTP
        keep_cache: bool = False,  # the server's cache is its own
        prefix_end_marker: str | None = None,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Generation:
        """`temperature` and `seed` sample (the agent's candidates); greedy by default."""
        if is_cancelled():
            raise GenerationCancelled
        path, payload = self._payload(prompt_text, fim, max_tokens)
        if temperature > 0:
            # top_k as the in-process candidates use; servers that do not know it ignore it.
            payload |= {"temperature": temperature, "top_k": 40}
            if seed is not None:
                payload["seed"] = seed
        if grammar and not grammar_accepted and path in ("/completion", "/v1/completions"):
            payload["grammar"] = grammar  # llama-server decodes under it; others ignore it
        request = urllib.request.Request(
            self.base + path, json.dumps(payload).encode(), self._headers()
        )
        started = time.monotonic()
        timeout = max_prompt_s if max_prompt_s else self.settings.timeout_ms / 1000
        checks = _Checks(is_cancelled, should_stop, should_yield, max_predict_s)
        text, pieces, reason, first_at = self._stream(request, path, timeout, checks)
        finished = time.monotonic()
        first_at = first_at or finished
        if self.settings.api == "openai-chat":
            text = strip_fence(text)
        return Generation(
            text=text,
            prompt_tokens=self.count_tokens(prompt_text),
            generated_tokens=pieces,
            stop_reason=reason,
            prompt_ms=(first_at - started) * 1000,
            generate_ms=(finished - first_at) * 1000,
        )
