"""An error answer of the router's API as the TlfifError it stands for.

By the code in the JSON error body when there is one (the router's own), else by the status
alone: API Gateway answers some requests itself, as {"message": "Unauthorized"} and the like.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from tlfif import errors
from tlfif.client.errors import ServiceUnavailable, UnexpectedResponse
from tlfif.contracts import ErrorBody
from tlfif.errors import TlfifError


def error_from_response(response: httpx.Response) -> TlfifError:
    """The TlfifError an error response stands for: by its code, else by its status."""
    retry_after = _retry_after(response)
    detail = _error_detail(response)
    if detail is not None and detail.error.code in ERRORS_BY_CODE:
        error_class = ERRORS_BY_CODE[detail.error.code]
        return _instantiate(error_class, detail.error.message, detail.error.field, retry_after)
    # API Gateway answers some requests itself: {"message": "Unauthorized"} and the like.
    message = detail.error.message if detail else _gateway_message(response)
    return _error_for_status(response, message, retry_after)


def _error_for_status(
    response: httpx.Response, message: str, retry_after: int | None
) -> TlfifError:
    status = response.status_code
    if status == 400:
        return errors.InvalidInput(message)
    if status == 401:
        return errors.TokenInvalid(message)
    if status == 403:
        return errors.Forbidden(message)
    if status == 429:
        return errors.Throttled(message, retry_after=retry_after or 1)
    if status >= 500:
        return ServiceUnavailable(message, retry_after=retry_after)
    return UnexpectedResponse(f"HTTP {status} from {response.request.url}: {message}")


def _server_error_classes() -> dict[str, type[TlfifError]]:
    """code -> class, read off the one error tree rather than kept as a second table."""
    found: dict[str, type[TlfifError]] = {}
    pending: list[type[TlfifError]] = [TlfifError]
    while pending:
        error_class = pending.pop()
        pending.extend(error_class.__subclasses__())
        if error_class.__module__ == errors.__name__ or error_class is ServiceUnavailable:
            found.setdefault(error_class.code, error_class)
    return found


ERRORS_BY_CODE = _server_error_classes()


def _instantiate(
    error_class: type[TlfifError], message: str, field: str | None, retry_after: int | None
) -> TlfifError:
    if error_class is errors.Throttled:
        return errors.Throttled(message, retry_after=retry_after or 1)
    if error_class is ServiceUnavailable:
        return ServiceUnavailable(message, retry_after=retry_after)
    error = error_class(message, field=field)
    if retry_after is not None:
        error.retry_after = retry_after
    return error


def _error_detail(response: httpx.Response) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate_json(response.content)
    except ValidationError:
        return None


def _gateway_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.reason_phrase or f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    # Seconds only: the router and API Gateway never send the HTTP-date form.
    return int(value) if value.strip().isdigit() else None
