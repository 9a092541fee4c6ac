"""Resuming "the same request again" (ADR 0024): the idempotency key under which a repeated
request finds the job an earlier try of it queued, so a retry resumes that job instead of paying
for a second one, while the same prompt sent anew is a new job.

An explicit Idempotency-Key always wins. Without one, a client that numbers its tries (the
official OpenAI SDKs send `x-stainless-retry-count`: 0, then 1, 2, ...) is recognised by its
body: try 0 queues a new job and files it under the body's hash, replacing any job an
earlier identical request filed there; try 1 and later resume the filed job. A client that
numbers nothing gets a new job each time, as POST /infer always gave.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tlfif import keys
from tlfif.redis_conn import RedisClient, queue_errors

# A body's key starts with NUL, which no HTTP header value may hold (RFC 9110, 5.5): no
# Idempotency-Key a client sends can name a body's key.
BODY_KEY_PREFIX = "\x00body:"


@dataclass(frozen=True)
class Resume:
    """What to enqueue a request under: `key` (None: a new job, filed nowhere), and whether
    the request is a first try (`fresh`), whose key must first forget the job it named."""

    key: str | None = None
    fresh: bool = False


def resume_for(
    idempotency_key: str | None, retry_count: int | None, route: str, body: Mapping[str, Any]
) -> Resume:
    if idempotency_key is not None:
        return Resume(idempotency_key)
    if retry_count is None:
        return Resume()
    return Resume(body_key(route, body), fresh=retry_count == 0)


def body_key(route: str, body: Mapping[str, Any]) -> str:
    """The route and the body as canonical JSON, hashed: key order and spacing do not matter."""
    canonical = json.dumps([route, body], sort_keys=True, separators=(",", ":"))
    return BODY_KEY_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


async def forget_key(redis: RedisClient, sub: str, key: str) -> None:
    """Drop `sub`'s mapping of `key` to a job, so the next enqueue under it is a new job."""
    with queue_errors():
        await redis.delete(keys.idempotency(sub, key))
