"""OpenAiApiDouble: the OpenAI HTTP API's chat completions (non-streaming), in memory.

Answers as api.openai.com does: Bearer key check (401 invalid_api_key), JSON errors as
{"error": {"message", "type", "param", "code"}}, and the chat.completion body. Tests script
failures (`fail_next`: statuses to answer first) and read what was sent (`bodies`).
Use `transport()` for an in-process httpx2 client, or `handle` behind tests/doubles/http_app.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2

ERROR_TYPES = {
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
    504: ("server_error", None),
}


@dataclass
class OpenAiApiDouble:
    api_key: str | None = "sk-double"  # None accepts any key
    models: tuple[str, ...] = ("gpt-4o-mini",)
    reply: str | None = None  # None: "You said: <last user message>"
    fail_next: list[int] = field(default_factory=list)
    retry_after: int | None = None
    quota_exhausted: bool = False
    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)

    def transport(self) -> httpx2.MockTransport:
        def handle(request: httpx2.Request) -> httpx2.Response:
            status, headers, body = self.answer(
                request.method, request.url.path, dict(request.headers), request.content
            )
            return httpx2.Response(status, headers=headers, json=body)

        return httpx2.MockTransport(handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.answer(
            request.method, request.url.path, dict(request.headers), request.content
        )
        return httpx.Response(status, headers=headers, json=body)

    def answer(
        self, method: str, path: str, headers: dict[str, str], content: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        authorization = headers.get("authorization", "")
        self.authorizations.append(authorization)
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided.")
        if method == "POST" and path.endswith("/chat/completions"):
            return self._chat(json.loads(content))
        if method == "GET" and path.endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "double"} for m in self.models]
            return 200, {}, {"object": "list", "data": data}
        return self._error(404, f"Unknown request URL: {method} {path}")

    def _chat(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.bodies.append(body)
        if self.fail_next:
            return self._error(self.fail_next.pop(0), "The server had an error.")
        if self.quota_exhausted:
            status, headers, error = self._error(429, "You exceeded your current quota.")
            error["error"]["code"] = "insufficient_quota"
            return status, headers, error
        if body.get("model") not in self.models:
            return self._error(404, f"The model `{body.get('model')}` does not exist.")
        text = self.reply
        if text is None:
            text = f"You said: {body['messages'][-1]['content']}"
        completion = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
        }
        return 200, {}, completion

    def _error(self, status: int, message: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        kind, code = ERROR_TYPES.get(status, ("invalid_request_error", None))
        headers = (
            {"retry-after": str(self.retry_after)} if self.retry_after and status == 429 else {}
        )
        error = {"message": message, "type": kind, "param": None, "code": code}
        return status, headers, {"error": error}
