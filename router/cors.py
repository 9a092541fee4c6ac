"""CORS for browser tools on the owner's own machine: http://localhost and http://127.0.0.1
on any port are allowed; every other origin is refused.

Here rather than in API Gateway: an HTTP API's CORS cannot express "localhost on any port",
and once configured it replaces the app's CORS headers. Preflights are answered before any
route, so they need no token (a browser sends none on a preflight). Requests carry a bearer
token, never cookies, so no credentials are allowed.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import error_response

ALLOWED_ORIGIN = re.compile(r"^http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$")
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
# What a browser script may read of a response beyond the basic headers.
EXPOSED_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate"
PREFLIGHT_CACHE_SECONDS = "600"


class Cors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:  # not a cross-origin browser request
            await self.app(scope, receive, send)
            return
        allowed = bool(ALLOWED_ORIGIN.match(origin))
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            response = _preflight(origin, allowed, headers["access-control-request-method"])
            await response(scope, receive, send)
            return
        if not allowed:
            # Served without CORS headers: the browser withholds the response from the page.
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = origin
                response_headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _preflight(origin: str, allowed: bool, method: str) -> Response:
    if not allowed:
        return _refused(
            "cross-origin requests are allowed only from http://localhost and "
            "http://127.0.0.1 (any port)",
            field="Origin",
        )
    if method.upper() not in ALLOWED_METHODS:
        return _refused(
            f"cross-origin requests may use {' or '.join(ALLOWED_METHODS)} only",
            field="Access-Control-Request-Method",
        )
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join((*ALLOWED_METHODS, "OPTIONS")),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_CACHE_SECONDS,
            "Vary": "Origin",
        },
    )


def _refused(message: str, field: str) -> Response:
    # No Access-Control-Allow-Origin: the browser refuses the request it asked about.
    return error_response(
        403, "origin_not_allowed", message, field=field, headers={"Vary": "Origin"}
    )
