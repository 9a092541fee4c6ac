"""Every error the router answers, as the one JSON body {"error": {"code","message","field"}},
or, on the OpenAI-compatible /v1 routes, in OpenAI's shape (router/v1/errors.py).

TlfifError subclasses carry their own status and code (tlfif/errors.py); this module only
turns them, Starlette's HTTP errors and pydantic's validation errors into responses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.v1.errors import openai_error, openai_error_for, speaks_openai
from tlfif.contracts import ErrorBody, ErrorDetail
from tlfif.errors import TlfifError

log = logging.getLogger(__name__)

# The contract promises Retry-After on every 503; this is the hint where the error has none.
DEFAULT_RETRY_AFTER = 5
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
UNAVAILABLE = "the service is unavailable; try again shortly"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def unavailable(message: str = UNAVAILABLE, *, path: str = "") -> JSONResponse:
    """The answer to anything unexpected: never a 500 (the contract), always retryable."""
    headers = {"Retry-After": str(DEFAULT_RETRY_AFTER)}
    if speaks_openai(path):
        return openai_error(503, "unavailable", message, headers=headers)
    return error_response(503, "unavailable", message, headers=headers)


async def on_tlfif_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TlfifError)
    # A TlfifError without an HTTP meaning of its own (status 500, or the watcher's 502)
    # still must not surface as a server error: the caller can only retry.
    status = exc.status if exc.status < 500 else 503
    if exc.public_message is not None:
        # The detail (a host, a bucket, an AWS message) is for the logs only.
        log.warning("request failed", extra={"code": exc.code, "detail": exc.message})
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status in (429, 503):
        headers["Retry-After"] = str(exc.retry_after or DEFAULT_RETRY_AFTER)
    if speaks_openai(request.url.path):
        return openai_error_for(exc, headers)
    return error_response(status, exc.code, exc.caller_message, field=exc.field, headers=headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = "no such route" if exc.status_code == 404 else str(exc.detail)
    if speaks_openai(request.url.path):
        return openai_error(exc.status_code, code, message, headers=exc.headers)
    return error_response(exc.status_code, code, message, headers=exc.headers)
