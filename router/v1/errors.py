"""Errors on /v1 in OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with the
statuses the official openai client turns into its exception classes: 400 BadRequestError,
401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError, 429 RateLimitError,
5xx InternalServerError. router/errors.py picks this shape for every path under /v1; the
native routes keep their own.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from tlfif.errors import ReplyFailed, ReplyPending, TlfifError
from tlfif.openai_contracts import OpenAIErrorBody, OpenAIErrorDetail

PREFIX = "/v1"
# Our code -> OpenAI's, where OpenAI has a word for the same failure that clients test for.
OPENAI_CODES = {
    "unauthorized": "invalid_api_key",
    "throttled": "rate_limit_exceeded",
    "budget_reached": "insufficient_quota",
    "unsupported": "unsupported_parameter",
}
# Answers a retry of the same request cannot change, so `x-should-retry: false` keeps the
# SDKs from spending their retries (and their sleeps) on them.
FINAL_CODES = frozenset({"budget_reached", "node_held"})
SHOULD_RETRY_HEADER = "x-should-retry"
# What a failed reply says on /v1, by its error_code: fixed words, never the engine's own.
FAILURE_WORDS = {
    "engine_error": "the model's engine refused this request",
    "engine_crashed": "the model's engine crashed each time it ran this prompt",
    "engine_failed": (
        "the model's engine did not come up, so the node stopped; a new request starts it again"
    ),
    "watcher_failed": "the node failed on this request",
    "expired": "no node took this request within its time to live",
    "cancelled": "this request was cancelled",
}


def speaks_openai(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def openai_error(
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
    should_retry: bool | None = None,
) -> JSONResponse:
    detail = OpenAIErrorDetail(
        message=message,
        type=_error_type(status, code),
        param=param,
        code=OPENAI_CODES.get(code, code),
    )
    answer = dict(headers or {})
    if should_retry is not None:
        answer[SHOULD_RETRY_HEADER] = "true" if should_retry else "false"
    body = OpenAIErrorBody(error=detail)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=answer)


def openai_error_for(exc: TlfifError, headers: Mapping[str, str]) -> JSONResponse:
    """`exc` as /v1 answers it; `headers` are router/errors.py's (Retry-After, ...)."""
    should_retry: bool | None
    if isinstance(exc, ReplyFailed):
        # The job's own answer: the same request again resumes it and gets it again.
        status, should_retry = exc.status, False
        headers = {name: value for name, value in headers.items() if name != "Retry-After"}
    elif exc.code == "budget_reached":
        # What OpenAI answers a caller whose money ran out: 429 insufficient_quota.
        status, should_retry = 429, False
    else:
        # Never a 500: anything of ours without an HTTP meaning is a retryable 503.
        status = exc.status if exc.status < 500 else 503
        should_retry = False if exc.code in FINAL_CODES else None
    if isinstance(exc, ReplyPending):
        should_retry = True
    return openai_error(
        status,
        exc.code,
        exc.caller_message,
        param=exc.field,
        headers=headers,
        should_retry=should_retry,
    )


def _error_type(status: int, code: str) -> str:
    """OpenAI's own error types: what its API answers for the same status."""
    if code == "budget_reached":
        return "insufficient_quota"
    if status == 429:
        return "requests"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"
