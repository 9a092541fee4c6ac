"""Any double with `handle(httpx.Request) -> httpx.Response` (RouterApiDouble,
OpenAiApiDouble) as a Starlette app, so a separate process can reach it over real HTTP
(serve it with tests/fixtures/asgi_server.serve_asgi)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})


def http_app(handle: Callable[[httpx.Request], httpx.Response]) -> Starlette:
    lock = threading.Lock()

    async def forward(request: Request) -> Response:
        mirrored = httpx.Request(
            request.method,
            str(request.url),
            headers=list(request.headers.items()),
            content=await request.body(),
        )
        with lock:  # a double is plain state, read by the test's thread as well
            answer = handle(mirrored)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_HEADERS}
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    methods = ["GET", "POST", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
