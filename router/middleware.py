"""Per-request context: the X-Request-Id, the access log line, and the never-a-500 net.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it sits inside
ServerErrorMiddleware, so an unexpected exception is answered here (503, JSON) instead of
reaching Starlette's 500 page, and the response it sends still gets the request id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import unavailable

log = logging.getLogger("router.access")
error_log = logging.getLogger("router.errors")
REQUEST_ID_HEADER = "X-Request-Id"
# A caller's id is echoed only if it is short and plain: it lands in headers and logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _REQUEST_ID.match(given):
                return given
    return str(uuid.uuid4())


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unexpected error", extra={"requestId": request_id})
            if status:
                raise  # the response has begun; nothing sane can be sent any more
            await unavailable()(scope, receive, send_with_id)
        finally:
            _access_log(scope, request_id, status, started)


def _access_log(scope: Scope, request_id: str, status: int, started: float) -> None:
    client = scope.get("client")
    log.info(
        "request",
        extra={
            "requestId": request_id,
            "ip": client[0] if client else None,
            "method": scope["method"],
            "route": _route_of(scope),
            "status": status,
            "latencyMs": round((time.perf_counter() - started) * 1000, 2),
        },
    )


def _route_of(scope: Scope) -> str:
    # The route's template ("/result/{id}"), so log queries group by route, not by job id.
    route: BaseRoute | None = scope.get("route")
    return route.path if isinstance(route, Route) else str(scope.get("path", ""))
