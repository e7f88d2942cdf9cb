"""The OpenAI-compatible model API, served by the model the editor already keeps warm:
/v1/models, /v1/completions (with `suffix` in the model's own FIM format),
/v1/chat/completions (streaming, stop, max_tokens, temperature, `response_format` JSON schema
through a grammar), and the subset of /v1/responses that Responses clients need (text in,
text out, streaming events). Errors use OpenAI's shape and codes."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from inference.fim import INSTRUCT, FimInput, format_for
from inference.worker import ModelWorker
from lsp_server.web.generation import Ask, Outcome, generate, stream
from lsp_server.web.tasks_api import ApiError, body_of, core_of

MAX_TOKENS = 4096


def _engine(request: Request) -> Any:
    engine = core_of(request).worker.engine
    if engine is None:
        raise ApiError(503, "no model is loaded: see `treellama doctor`", "model_not_loaded")
    return engine


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(400, f"`{key}` must be a number from {low:g} to {high:g}", "invalid_value")
    return float(value)


def _stops(body: dict[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop) and len(stop) <= 16:
        return tuple(s for s in stop if s)
    raise ApiError(400, "`stop` must be a string or a list of up to 16 strings", "invalid_value")


def _ask(body: dict[str, Any], prompt: str, stop: tuple[str, ...] = (), **more: Any) -> Ask:
    limit = body.get("max_tokens", body.get("max_completion_tokens", body.get("max_output_tokens")))
    max_tokens = int(_number({"max_tokens": limit}, "max_tokens", 256, 1, MAX_TOKENS))
    temperature = _number(body, "temperature", 0.0, 0.0, 2.0)
    seed = int(_number(body, "seed", 0, 0, 2**31 - 1))
    return Ask(prompt, max_tokens, (*_stops(body), *stop), temperature, seed, **more)


def _text_of(content: Any) -> str:
    """A message's content: a string, or text parts (text, input_text, output_text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            p.get("text", "")
            for p in content
            if isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text")
        ]
        if len(parts) == len(content):
            return "".join(str(p) for p in parts)
    raise ApiError(400, "message content must be a string or a list of text parts", "invalid_value")


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "`messages` must be a non-empty list", "invalid_value")
    messages = []
    for message in raw:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
        ):
            raise ApiError(
                400, "each message needs a role: system, user or assistant", "invalid_value"
            )
        role = "system" if message["role"] == "developer" else message["role"]
        messages.append({"role": role, "content": _text_of(message.get("content", ""))})
    return messages


def _grammar(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format")
    if fmt is None or fmt == {"type": "text"}:
        return None
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return JSON_GBNF
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            try:
                return json_schema_to_gbnf(json.dumps(schema))
            except Exception as exc:  # the converter's own message says which part it lacks
                raise ApiError(
                    400, f"this JSON schema cannot be used: {exc}", "invalid_schema"
                ) from None
    raise ApiError(
        400,
        "`response_format` must be text, json_object or json_schema with a schema",
        "invalid_value",
    )


def _usage(outcome: Outcome, responses: bool = False) -> dict[str, int]:
    total = outcome.prompt_tokens + outcome.completion_tokens
    if responses:
        return {
            "input_tokens": outcome.prompt_tokens,
            "output_tokens": outcome.completion_tokens,
            "total_tokens": total,
        }
    return {
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "total_tokens": total,
    }


def _sse(chunks: AsyncIterator[dict[str, Any]], done: bool = True) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        async for chunk in chunks:
            event = f"event: {chunk['type']}\n" if not done else ""
            yield f"{event}data: {json.dumps(chunk)}\n\n"
        if done:
            yield "data: [DONE]\n\n"

    return StreamingResponse(
        lines(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


async def models(request: Request) -> Response:
    name = core_of(request).model_name
    return JSONResponse(
        {
            "object": "list",
            "data": [{"id": name, "object": "model", "created": 0, "owned_by": "treellama"}],
        }
    )


async def completions(request: Request) -> Response:
    core, body = core_of(request), await body_of(request)
    await core.model_ready()
    prompt, suffix = body.get("prompt"), body.get("suffix")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str) or not (suffix is None or isinstance(suffix, str)):
        raise ApiError(400, "`prompt` (and `suffix`) must be strings", "invalid_value")
    stop: tuple[str, ...] = ()
    family = _engine(request).info.family
    if suffix is not None and family != INSTRUCT:
        fim = format_for(family)
        prompt, stop = fim.build(FimInput(prompt, suffix)), fim.stop
    ask = _ask(body, prompt, stop)
    made, name = int(time.time()), core.model_name
    ident = f"cmpl-{secrets.token_hex(8)}"

    def choice(text: str, reason: str | None) -> dict[str, Any]:
        return {"text": text, "index": 0, "logprobs": None, "finish_reason": reason}

    if body.get("stream"):
        outcome = Outcome()

        async def chunks() -> AsyncIterator[dict[str, Any]]:
            async for delta in stream(core.worker, ask, outcome):
                yield {
                    "id": ident,
                    "object": "text_completion",
                    "created": made,
                    "model": name,
                    "choices": [choice(delta, None)],
                }
            yield {
                "id": ident,
                "object": "text_completion",
                "created": made,
                "model": name,
                "choices": [choice("", outcome.finish_reason)],
            }

        return _sse(chunks())
    outcome = await generate(core.worker, ask)
    return JSONResponse(
        {
            "id": ident,
            "object": "text_completion",
            "created": made,
            "model": name,
            "choices": [choice(outcome.text, outcome.finish_reason)],
            "usage": _usage(outcome),
        }
    )


async def chat_completions(request: Request) -> Response:
    core, body = core_of(request), await body_of(request)
    await core.model_ready()
    messages = _messages(body.get("messages"))
    ask = _ask(body, _engine(request).render_chat(messages), grammar=_grammar(body))
    made, name = int(time.time()), core.model_name
    ident = f"chatcmpl-{secrets.token_hex(8)}"
    if body.get("stream"):
        outcome = Outcome()

        async def chunks() -> AsyncIterator[dict[str, Any]]:
            head = {"id": ident, "object": "chat.completion.chunk", "created": made, "model": name}
            yield {
                **head,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
            async for delta in stream(core.worker, ask, outcome):
                yield {
                    **head,
                    "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}],
                }
            yield {
                **head,
                "choices": [{"index": 0, "delta": {}, "finish_reason": outcome.finish_reason}],
            }

        return _sse(chunks())
    outcome = await generate(core.worker, ask)
    message = {"role": "assistant", "content": outcome.text}
    return JSONResponse(
        {
            "id": ident,
            "object": "chat.completion",
            "created": made,
            "model": name,
            "choices": [{"index": 0, "message": message, "finish_reason": outcome.finish_reason}],
            "usage": _usage(outcome),
        }
    )


def _response_input(body: dict[str, Any]) -> list[dict[str, str]]:
    raw, instructions = body.get("input"), body.get("instructions")
    messages = (
        [{"role": "system", "content": instructions}] if isinstance(instructions, str) else []
    )
    if isinstance(raw, str):
        return [*messages, {"role": "user", "content": raw}]
    if isinstance(raw, list):
        return [*messages, *_messages([m for m in raw if isinstance(m, dict)] or [None])]
    raise ApiError(400, "`input` must be a string or a list of messages", "invalid_value")


def _response_object(
    ident: str, name: str, made: int, text: str, status: str, outcome: Outcome | None
) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}]
    item = {
        "type": "message",
        "id": f"msg_{ident[5:]}",
        "status": status,
        "role": "assistant",
        "content": content if status == "completed" else [],
    }
    return {
        "id": ident,
        "object": "response",
        "created_at": made,
        "model": name,
        "status": status,
        "output": [item] if status == "completed" else [],
        "usage": _usage(outcome, responses=True) if outcome else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": False,
        "tool_choice": "none",
        "tools": [],
    }


async def _response_events(
    worker: ModelWorker, ask: Ask, ident: str, name: str, made: int
) -> AsyncIterator[dict[str, Any]]:
    """The Responses API's streaming events for one text answer, numbered."""
    outcome = Outcome()
    item_id = f"msg_{ident[5:]}"
    number = iter(range(1 << 30))
    begun = _response_object(ident, name, made, "", "in_progress", None)
    yield {"type": "response.created", "sequence_number": next(number), "response": begun}
    item = {
        "type": "message",
        "id": item_id,
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    yield {
        "type": "response.output_item.added",
        "sequence_number": next(number),
        "output_index": 0,
        "item": item,
    }
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    yield {
        "type": "response.content_part.added",
        "sequence_number": next(number),
        **where,
        "part": part,
    }
    async for delta in stream(worker, ask, outcome):
        yield {
            "type": "response.output_text.delta",
            "sequence_number": next(number),
            **where,
            "delta": delta,
            "logprobs": [],
        }
    text = outcome.text
    yield {
        "type": "response.output_text.done",
        "sequence_number": next(number),
        **where,
        "text": text,
        "logprobs": [],
    }
    yield {
        "type": "response.content_part.done",
        "sequence_number": next(number),
        **where,
        "part": {**part, "text": text},
    }
    finished = _response_object(ident, name, made, text, "completed", outcome)
    yield {
        "type": "response.output_item.done",
        "sequence_number": next(number),
        "output_index": 0,
        "item": finished["output"][0],
    }
    yield {"type": "response.completed", "sequence_number": next(number), "response": finished}


async def responses(request: Request) -> Response:
    core, body = core_of(request), await body_of(request)
    await core.model_ready()
    ask = _ask(body, _engine(request).render_chat(_response_input(body)))
    made, name = int(time.time()), core.model_name
    ident = f"resp_{secrets.token_hex(8)}"
    if not body.get("stream"):
        outcome = await generate(core.worker, ask)
        return JSONResponse(_response_object(ident, name, made, outcome.text, "completed", outcome))
    return _sse(_response_events(core.worker, ask, ident, name, made), done=False)


ROUTES = [
    Route("/v1/models", models, methods=["GET"]),
    Route("/v1/completions", completions, methods=["POST"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/responses", responses, methods=["POST"]),
]
