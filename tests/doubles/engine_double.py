"""EngineDouble: a stand-in for vLLM's OpenAI-compatible server, for tests that need speed.

It streams the way vLLM does (a role chunk with content "", one chunk per token, a finish
chunk, a usage chunk with empty choices when stream_options.include_usage is set, then
`data: [DONE]`), and has knobs to misbehave the ways real engines do. The reply is the words
of the last message, one word per token, so tests can predict it with `reply_tokens`.

`python -m tests.doubles.engine_double --port N [--knobs JSON]` serves it as a process of its
own: one that can die (SIGKILL) mid-stream, as a crashing vLLM or llama.cpp does, and be
started again (tests/fixtures/engine.py, and the local stack's TLFIF_LOCAL_ENGINE_COMMAND).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# The double's usage counts what a chat template would add around each message, as vLLM's
# real usage does; its /extras/tokenize (llama-cpp-python's endpoint) counts content only.
TEMPLATE_TOKENS_PER_MESSAGE = 4


def words(text: str) -> list[str]:
    """The double's tokenizer: one token per whitespace-separated word."""
    return text.split()


def reply_tokens(messages: list[dict[str, Any]], max_tokens: int) -> tuple[list[str], str]:
    """The tokens the double streams for these messages, and its finish_reason."""
    said = words(str(messages[-1].get("content", ""))) if messages else []
    tokens = [word if i == 0 else f" {word}" for i, word in enumerate(said or ["..."])]
    if len(tokens) > max_tokens:
        return tokens[:max_tokens], "length"
    return tokens, "stop"


class EngineDouble:
    """The double's state: knobs tests set, counters tests read. Serves `app`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/extras/tokenize", self._tokenize, methods=["POST"]),
                Route("/_double/state", self._state, methods=["GET"]),
            ]
        )

    def reset(self) -> None:
        """Every knob back to a well-behaved vLLM, every counter to zero."""
        with self._lock:
            self.token_delay_seconds = 0.0
            self.fail_next_requests = 0  # answer HTTP 500
            self.fail_on: str | None = None  # answer HTTP 500 to prompts with this word
            # SIGKILL this very process halfway through streaming a reply to a prompt with
            # this word: a prompt that crashes the engine each time it runs.
            self.die_on: str | None = None
            self.cut_next_streams = 0  # [DONE] with no finish_reason, as an interrupted llama.cpp
            self.omit_usage = False  # llama-cpp-python style: ignore stream_options
            self.tokenize_available = True
            self.ready = True
            self.requests_seen = 0
            self.prompts: list[str] = []  # the last message of each request, in order
            self.in_flight = 0
            self.max_in_flight = 0
            self.last_request: dict[str, Any] | None = None

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests_seen += 1
            prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
            self.prompts.append(prompt)
            self.last_request = body
            fail = self.fail_next_requests > 0
            self.fail_next_requests -= int(fail)
            fail = fail or bool(self.fail_on and self.fail_on in prompt.split())
            die = bool(self.die_on and self.die_on in prompt.split())
            cut = not fail and self.cut_next_streams > 0
            self.cut_next_streams -= int(cut)
        if not self.ready:
            return JSONResponse({"error": {"message": "model loading"}}, status_code=503)
        if fail:
            error = {"message": "EngineDouble: injected failure", "type": "InternalServerError"}
            return JSONResponse({"error": {**error, "code": 500}}, status_code=500)
        if not body.get("stream"):
            return JSONResponse(_completion(body))
        return StreamingResponse(self._stream(body, cut, die), media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], cut: bool, die: bool) -> AsyncIterator[str]:
        self._enter()
        try:
            tokens, finish = reply_tokens(body["messages"], int(body.get("max_tokens", 16)))
            chunk = _Chunks(str(body.get("model", "engine-double")))
            yield chunk.event(chunk.choice({"role": "assistant", "content": ""}))
            # vLLM sends the last generated token in the finish chunk when it stops on length;
            # on a stop token (whose text is empty) the finish chunk's content is "".
            body_tokens = tokens[:-1] if finish == "length" else tokens
            for index, token in enumerate(
                body_tokens[: len(body_tokens) // 2] if cut else body_tokens
            ):
                if die and index == len(body_tokens) // 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                await asyncio.sleep(self.token_delay_seconds)
                yield chunk.event(chunk.choice({"content": token}))
            if not cut:
                last = tokens[-1] if finish == "length" else ""
                yield chunk.event(chunk.choice({"content": last}, finish))
                options = body.get("stream_options") or {}
                if options.get("include_usage") and not self.omit_usage:
                    yield chunk.event(chunk.usage(_prompt_tokens(body["messages"]), len(tokens)))
            yield "data: [DONE]\n\n"
        finally:
            self._leave()

    def requests_for(self, prompt: str) -> int:
        """How many requests asked with this prompt (the watcher's warm-ups ask "Hello")."""
        with self._lock:
            return self.prompts.count(prompt)

    async def _state(self, request: Request) -> Response:
        """What a test in another process reads: requests in flight and prompts seen."""
        with self._lock:
            return JSONResponse({"in_flight": self.in_flight, "prompts": list(self.prompts)})

    async def _models(self, request: Request) -> Response:
        if not self.ready:
            return JSONResponse({"error": {"message": "model loading"}}, status_code=503)
        model = {"id": "engine-double", "object": "model", "owned_by": "vllm"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _tokenize(self, request: Request) -> Response:
        if not self.tokenize_available:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body = await request.json()
        return JSONResponse({"tokens": list(range(len(words(str(body.get("input", ""))))))})

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    """A whole chat.completion, as vLLM answers a request without `stream`."""
    tokens, finish = reply_tokens(body["messages"], int(body.get("max_tokens", 16)))
    prompt = _prompt_tokens(body["messages"])
    message = {"role": "assistant", "content": "".join(tokens)}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model", "engine-double")),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": len(tokens),
            "total_tokens": prompt + len(tokens),
        },
    }


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    content = sum(len(words(str(m.get("content", "")))) for m in messages)
    return content + TEMPLATE_TOKENS_PER_MESSAGE * len(messages)


class _Chunks:
    """chat.completion.chunk objects of one stream, shaped as vLLM serialises them."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def choice(self, delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
        return self._base([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def usage(self, prompt: int, completion: int) -> dict[str, Any]:
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        return {**self._base([]), "usage": {**usage, "total_tokens": prompt + completion}}

    def event(self, chunk: dict[str, Any]) -> str:
        return f"data: {json.dumps(chunk)}\n\n"

    def _base(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.doubles.engine_double")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--knobs", default="{}", help="JSON: knob names and values")
    args = parser.parse_args()
    port = args.port
    double = EngineDouble()
    for name, value in json.loads(args.knobs).items():
        if not hasattr(double, name):
            raise SystemExit(f"engine double: no knob {name!r}")
        setattr(double, name, value)
    uvicorn.run(double.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
