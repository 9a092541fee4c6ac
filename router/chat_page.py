"""The chat page: GET / and the two files it loads, GET /static/{name}, from the package's
own data (router/static/), with headers under which they run nothing but themselves.

Loading the page takes no token; the page calls /v1 with the one the user pastes. Same
origin as the API, so its requests need no CORS (ADR 0026).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

PAGE = "index.html"
# Everything under /static, by name, with its media type; any other name is a 404.
ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css"}
# This origin's own script, styles and API, nothing inline (the page has no inline script
# or style, so an injected one cannot run), nothing framing it (clickjacking), no <base>
# or form that could send anything elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
    # Fetched anew each time (a few kB): a deploy never pairs a new page with an old script.
    "Cache-Control": "no-cache",
}


async def page(request: Request) -> Response:
    return _served(PAGE, "text/html")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404)
    return _served(name, media_type)


@cache
def _content(name: str) -> bytes:
    """Read once per process: on Lambda, once per cold start."""
    return (files("router") / "static" / name).read_bytes()


def _served(name: str, media_type: str) -> Response:
    # Starlette adds "; charset=utf-8" to a text/* media type.
    return Response(_content(name), media_type=media_type, headers=HEADERS)
