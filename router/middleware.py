"""Per-request context: the X-Request-Id and the access log line (RequestContext, outermost),
and the never-a-500 net (LastResort, innermost).

Plain ASGI middlewares rather than Starlette's BaseHTTPMiddleware. LastResort sits inside
ServerErrorMiddleware, so an unexpected exception is answered there (503, JSON) instead of
reaching Starlette's 500 page; the CORS middleware sits between the two, so that 503 still
carries CORS headers and a preflight still gets its access line.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import unavailable

log = logging.getLogger("router.access")
error_log = logging.getLogger("router.errors")
REQUEST_ID_HEADER = "X-Request-Id"
# A caller's id is echoed only if it is short and plain: it lands in headers and logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_GATEWAY_ID = re.compile(r"^[A-Za-z0-9+/=._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    """On Lambda the gateway's requestId, so its access log and ours share one id, and no
    caller can choose the id our logs file a request under; elsewhere the caller's own id
    if plain; else a new uuid4."""
    gateway_id = _gateway_request_id(scope.get("aws.event"))
    return gateway_id or client_request_id(scope) or str(uuid.uuid4())


def client_request_id(scope: Scope) -> str | None:
    """The X-Request-Id the caller sent, if short and plain."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            return given if _REQUEST_ID.match(given) else None
    return None


def _gateway_request_id(event: Any) -> str | None:
    try:
        found = event["requestContext"]["requestId"]
    except (KeyError, TypeError):
        return None
    # An HTTP API's ids look like "JKJaXmPLvHcESHA=" (base64), so "=", "+" and "/" too.
    return found if isinstance(found, str) and _GATEWAY_ID.match(found) else None


def client_ip(scope: Scope) -> str:
    """The caller's address. On Lambda Mangum fills scope["client"] from the event's
    requestContext.http.sourceIp (mangum/handlers/api_gateway.py, HTTPGateway.scope), the
    address API Gateway saw; X-Forwarded-For is never read, since a client can forge it."""
    client = scope.get("client")
    return str(client[0]) if client and client[0] else "unknown"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        # Starlette's request.state is this dict: `caller` adds the sub once it is known.
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
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
        finally:
            _access_log(scope, request_id, status, started)


class LastResort:
    """Anything unexpected becomes a logged 503 `unavailable`: the contract has no 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            error_log.exception("unexpected error", extra={"requestId": request_id})
            if started:
                raise  # the response has begun; nothing sane can be sent any more
            await unavailable(path=str(scope.get("path", "")))(scope, receive, send)


def _access_log(scope: Scope, request_id: str, status: int, started: float) -> None:
    # Never the body or the Authorization header: a prompt or a token must not be logged.
    fields: dict[str, Any] = {
        "requestId": request_id,
        "ip": client_ip(scope),
        "method": scope["method"],
        "route": _route_of(scope),
        "status": status,
        "latencyMs": round((time.perf_counter() - started) * 1000, 2),
    }
    sub = scope.get("state", {}).get("sub")
    if sub:
        fields["sub"] = sub
    client_id = client_request_id(scope)
    if client_id and client_id != request_id:
        fields["clientRequestId"] = client_id  # the caller's own, filed apart
    log.info("request", extra=fields)


def _route_of(scope: Scope) -> str:
    # The route's template ("/result/{id}"), so log queries group by route, not by job id.
    route: BaseRoute | None = scope.get("route")
    return route.path if isinstance(route, Route) else str(scope.get("path", ""))
