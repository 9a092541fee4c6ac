"""PacedEngineDouble: an OpenAI-compatible engine that streams every reply at one fixed
token rate, any number of replies at once, none slowing another (a GPU batch far from
full). So a request of T tokens takes T / rate seconds wherever it comes from, and N
callers at once get N x rate / T replies a second: the most any queue in front can deliver.

It streams as vLLM does (a role chunk, one chunk per token, a finish chunk, a usage chunk
when stream_options.include_usage is set, then `data: [DONE]`), `max_tokens` tokens each,
token k of a reply sent k / rate seconds after the request arrived (by the clock, not by
sleeps that would add up). GET /_double/state says what it served and the most requests
it held at once; POST /_double/reset zeroes that.

`python -m bench.paced_engine_double --port N --tokens-per-second R` serves it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from local.processes import ChildProcess, free_port, stopped_on_failure, wait_until_answers

TOKEN = " tok"


class PacedEngineDouble:
    """The double's state (one event loop: no lock needed); serves `app`."""

    def __init__(self, tokens_per_second: float) -> None:
        self.tokens_per_second = tokens_per_second
        self.served = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/_double/state", self._state, methods=["GET"]),
                Route("/_double/reset", self._reset, methods=["POST"]),
            ]
        )

    async def _chat(self, request: Request) -> Response:
        arrived = time.monotonic()
        body = await request.json()
        if not body.get("stream"):
            return JSONResponse({"error": {"message": "this double only streams"}}, 400)
        return StreamingResponse(self._stream(body, arrived), media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], arrived: float) -> AsyncIterator[str]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            tokens = int(body.get("max_tokens") or 16)
            model = str(body.get("model", "paced-engine-double"))
            base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
                    "created": int(time.time()), "model": model}  # fmt: skip
            yield event(base, {"role": "assistant", "content": ""})
            for index in range(tokens):
                due = arrived + (index + 1) / self.tokens_per_second
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                last = index == tokens - 1
                yield event(base, {"content": TOKEN}, "length" if last else None)
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": 8, "completion_tokens": tokens,
                         "total_tokens": 8 + tokens}  # fmt: skip
                yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"
            self.served += 1
        finally:
            self.in_flight -= 1

    async def _state(self, request: Request) -> Response:
        return JSONResponse(
            {
                "served": self.served,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }
        )

    async def _reset(self, request: Request) -> Response:
        self.served = self.max_in_flight = 0
        return JSONResponse({"reset": True})


def event(base: dict[str, Any], delta: dict[str, str], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"


def start_process(
    run_dir: Path, tokens_per_second: float, env: Mapping[str, str], timeout: float
) -> tuple[ChildProcess, str]:
    """The double as a process of its own on a free port, and its root URL once it answers
    (stopped again if it does not)."""
    port = free_port()
    args = [sys.executable, "-m", "bench.paced_engine_double", "--port", str(port),
            "--tokens-per-second", str(tokens_per_second)]  # fmt: skip
    double = ChildProcess("paced-engine-double", args, env, run_dir)
    url = f"http://127.0.0.1:{port}"
    with stopped_on_failure(double):
        wait_until_answers(double, f"{url}/_double/state", timeout)
    return double, url


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.paced_engine_double")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens-per-second", type=float, required=True)
    args = parser.parse_args()
    double = PacedEngineDouble(args.tokens_per_second)
    uvicorn.run(double.app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
