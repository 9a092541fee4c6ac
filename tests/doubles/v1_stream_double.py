"""V1StreamDouble: the router's POST /v1/chat/completions and GET /v1/models as a scripted
double, beside the real chat page routes (router/chat_page.py), for browser tests of the
page's transport without a node: a 503 with Retry-After before the answer, `: keep-alive`
comments while the "node starts" (and GET /status naming its phase), deltas a little
apart, the usage chunk, an in-stream error event, and a router from before streaming (400
naming `stream`).

The wire is the router's (router/v1/stream.py): a role chunk, one chunk per piece of text,
a finish chunk, the usage chunk when stream_options.include_usage asks, `data: [DONE]`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from router import chat_page

CREATED = 1_767_000_000
PROMPT_TOKENS = 7


@dataclass
class Sent:
    """One request the page sent to /v1/chat/completions."""

    retry_count: str | None
    authorization: str | None
    body: dict[str, Any]


@dataclass
class V1StreamDouble:
    model: str = "stream-double"
    pieces: tuple[str, ...] = ("Hello", " from", " the", " stream")
    pending_tries: int = 0  # answer this many tries 503 reply_pending, Retry-After below
    retry_after: int = 1
    keep_alives: int = 0  # comments before the first chunk, `gap_seconds` apart
    gap_seconds: float = 0.05  # between comments and between pieces
    refuse_stream: bool = False  # 400 naming `stream`, as the router before streaming
    fail_in_stream: str | None = None  # after the pieces, an in-stream error event saying this
    node_phase: str | None = None  # GET /status says the node is in this phase; None: 404
    sent: list[Sent] = field(default_factory=list)
    app: Starlette = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/", self._page, methods=["GET"]),
                Route("/static/{name}", chat_page.asset, methods=["GET"]),
                Route("/status", self._status, methods=["GET"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )

    async def _page(self, request: Request) -> Response:
        return chat_page.page_for(chat_page.SignIn())  # a pasted token: no sign-in service

    async def _status(self, request: Request) -> Response:
        if self.node_phase is None:
            return _error(404, "no such route", None)
        status = {"node": self.node_phase, "queue_depth": 1, "pending": [], "hold": None}
        return JSONResponse(status | {"start_error": None, "owner": False})

    async def _models(self, request: Request) -> Response:
        card = {"id": self.model, "object": "model", "created": CREATED, "owned_by": "tl-fif"}
        return JSONResponse({"object": "list", "data": [card]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        headers = request.headers
        with self._lock:
            self.sent.append(
                Sent(headers.get("x-stainless-retry-count"), headers.get("authorization"), body)
            )
            pending = self.pending_tries > 0
            self.pending_tries -= int(pending)
        if body.get("stream") and self.refuse_stream:
            return _error(400, "streaming is not supported yet; send stream false", "stream")
        if pending:
            answer = _error(503, "the model is starting: your request is queued", None)
            answer.headers["Retry-After"] = str(self.retry_after)
            answer.headers["x-should-retry"] = "true"
            return answer
        if not body.get("stream"):
            return JSONResponse(self._completion())
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(self._events(usage), media_type="text/event-stream")

    async def _events(self, include_usage: bool) -> AsyncIterator[str]:
        for _ in range(self.keep_alives):
            await asyncio.sleep(self.gap_seconds)
            yield ": keep-alive\n\n"
        yield self._chunk({"role": "assistant", "content": ""})
        for piece in self.pieces:
            await asyncio.sleep(self.gap_seconds)
            yield self._chunk({"content": piece})
        if self.fail_in_stream is not None:
            error = {"message": self.fail_in_stream, "type": "server_error", "code": "x"}
            yield f"data: {json.dumps({'error': error | {'param': None}})}\n\n"
            return
        yield self._chunk({}, finish="stop")
        if include_usage:
            chunk = self._base([]) | {"usage": self._usage()}
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps(self._base([choice]))}\n\n"

    def _base(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-double",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "choices": choices,
        }

    def _usage(self) -> dict[str, int]:
        completion = len(self.pieces)
        return {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": completion,
            "total_tokens": PROMPT_TOKENS + completion,
        }

    def _completion(self) -> dict[str, Any]:
        message = {"role": "assistant", "content": "".join(self.pieces), "refusal": None}
        return {
            "id": "chatcmpl-double",
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": self._usage(),
        }


def _error(status: int, message: str, param: str | None) -> JSONResponse:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    error = {"message": message, "type": kind, "param": param, "code": None}
    return JSONResponse({"error": error}, status_code=status)
