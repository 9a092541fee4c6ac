"""S3FaultProxyDouble: a reverse proxy in front of moto's S3 that fails a share of PutObject
calls the ways a network does: refused before the write (500, nothing stored), or after it
landed (stored, but the client is told 500 and never learns it succeeded). Everything else
passes through. It counts, per key, the writes moto accepted: a key accepted twice would be
a reply changed under a client.

`python -m tests.doubles.s3_fault_proxy --port P --upstream URL` serves it as a process of
its own; POST /_fault {"rate": r} sets the failure rate, GET /_fault reports the counts.
"""

from __future__ import annotations

import argparse
import random
import threading
from collections import Counter

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

INTERNAL_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>S3FaultProxyDouble: injected failure</Message></Error>"
)
# Hop-by-hop and length headers: the proxy's own framing, not the upstream's.
DROPPED = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class S3FaultProxyDouble:
    def __init__(self, upstream: str, *, seed: int = 14) -> None:
        self.upstream = upstream.rstrip("/")
        self.failure_rate = 0.0  # set above 0 for the window of failures
        self.random = random.Random(seed)
        self.accepted: Counter[str] = Counter()  # key -> PutObjects moto took
        self.refused_before = 0
        self.failed_after = 0
        self._lock = threading.Lock()
        self._client = httpx.AsyncClient(timeout=30)
        methods = ["GET", "PUT", "POST", "HEAD", "DELETE"]
        self.app = Starlette(
            routes=[
                # No bucket name starts with "_": this path is never S3's.
                Route("/_fault", self._control, methods=["GET", "POST"]),
                Route("/{path:path}", self._proxy, methods=methods),
            ]
        )

    async def _control(self, request: Request) -> Response:
        if request.method == "POST":
            self.failure_rate = float((await request.json())["rate"])
        with self._lock:
            stats = {
                "rate": self.failure_rate,
                "refused_before": self.refused_before,
                "failed_after": self.failed_after,
                "accepted": dict(self.accepted),
            }
        return JSONResponse(stats)

    async def _proxy(self, request: Request) -> Response:
        body = await request.body()
        is_put = request.method == "PUT" and "/replies/" in request.url.path
        fault = None
        if is_put:
            with self._lock:
                if self.random.random() < self.failure_rate:
                    fault = self.random.choice(("before", "after"))
        if fault == "before":
            with self._lock:
                self.refused_before += 1
            return Response(INTERNAL_ERROR, status_code=500, media_type="application/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED}
        url = f"{self.upstream}{request.url.path}"
        if request.url.query:
            url += f"?{request.url.query}"
        upstream = await self._client.request(request.method, url, headers=headers, content=body)
        if is_put and upstream.status_code == 200:
            with self._lock:
                self.accepted[request.url.path] += 1
        if fault == "after":
            with self._lock:
                self.failed_after += 1
            return Response(INTERNAL_ERROR, status_code=500, media_type="application/xml")
        passed = {k: v for k, v in upstream.headers.items() if k.lower() not in DROPPED}
        return Response(upstream.content, status_code=upstream.status_code, headers=passed)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.doubles.s3_fault_proxy")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    proxy = S3FaultProxyDouble(args.upstream)
    uvicorn.run(proxy.app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
