"""Reading what a client sent: a JSON body, ?wait, the Idempotency-Key and
x-stainless-retry-count headers.

Every failure is an InvalidInput (400) naming the field, so a client can point at it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from tlfif.contracts import InferRequest, invalid_input
from tlfif.errors import InvalidInput

# 6144 content bytes can grow sixfold as JSON escapes (\uXXXX), plus the envelope; a body
# past this is refused before it is parsed, so nobody can make the router buffer megabytes.
MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY_CHARS = 255
# The OpenAI SDKs (Stainless-generated) number each request's tries: 0, then 1, 2, ...
RETRY_COUNT_HEADER = "x-stainless-retry-count"
_TRY_NUMBER = re.compile(r"^[0-9]{1,6}$")
# The deepest a body may nest arrays and objects. /infer's own shape is 3 deep; Python's
# json parser recurses per level and a body of ~1,000 brackets exhausts its stack
# (RecursionError), so the depth is checked on the raw bytes, before any parsing.
MAX_BODY_DEPTH = 32
_OPENERS, _CLOSERS = frozenset(b"[{"), frozenset(b"]}")


def infer_request(body: dict[str, Any]) -> InferRequest:
    try:
        return InferRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None


async def json_body(request: Request, *, empty_is_object: bool = False) -> dict[str, Any]:
    """The body as a JSON object, refused (400 naming "body") past the size and depth caps.
    `empty_is_object`: no body at all reads as {} (a route whose every field is optional)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidInput(f"body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if nesting_depth(raw) > MAX_BODY_DEPTH:
        raise InvalidInput(
            f"body nests arrays and objects deeper than {MAX_BODY_DEPTH} levels", field="body"
        )
    if empty_is_object and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("body is not JSON", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    return body


def retry_count(request: Request) -> int | None:
    """Which try of a request this is, as the OpenAI SDKs number them (0 the first); None
    from a client that does not say."""
    given = request.headers.get(RETRY_COUNT_HEADER)
    if given is None:
        return None
    if not _TRY_NUMBER.match(given):
        raise InvalidInput(
            f"{RETRY_COUNT_HEADER} must be a whole number of tries", field=RETRY_COUNT_HEADER
        )
    return int(given)


def nesting_depth(raw: bytes | bytearray) -> int:
    """The deepest nesting of [ and { in JSON text, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSERS:
            depth -= 1
    return deepest


def wait_seconds(request: Request, max_wait: int) -> int:
    given = request.query_params.get("wait")
    if given is None:
        return 0
    try:
        wait = int(given)
    except ValueError:
        raise InvalidInput("wait must be a whole number of seconds", field="wait") from None
    if not 0 <= wait <= max_wait:
        raise InvalidInput(f"wait must be between 0 and {max_wait} seconds", field="wait")
    return wait


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters",
            field="Idempotency-Key",
        )
    return key
