"""The /api-key/ prefix (ADR 0027): the same routes again, for callers with an API key.

On AWS the HTTP API's JWT authorizer refuses a bearer that is no JWT before the router
runs, so keys come in through `ANY /api-key/{proxy+}`, a route without the authorizer
(infra/modules/api). This strips the prefix before anything routes the request and marks
it, so the request is served by the route it names and must carry a key (router/
authentication.py): the prefix is the same on uvicorn and on Lambda, and a token sent
there is refused on both.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/api-key"
MARK = "tlfif.api_key_path"


class KeyPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path.startswith(PREFIX + "/"):
            scope = dict(scope)
            scope["path"] = path[len(PREFIX) :]
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(PREFIX.encode() + b"/"):
                scope["raw_path"] = raw[len(PREFIX) :]
            scope[MARK] = True
        await self.app(scope, receive, send)


def on_key_path(scope: Scope) -> bool:
    return bool(scope.get(MARK))
