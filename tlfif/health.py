"""The queue's health as a client sees it: does Redis answer PING, and how fast.

The router serves it locally as GET /queue-health; on AWS the queue_health Lambda does.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tlfif.contracts import QueueHealth
from tlfif.redis_conn import RedisClient

log = logging.getLogger(__name__)

# A server that accepts the connection but never answers must not hang the check:
# past this the queue is as good as down for a client.
PING_TIMEOUT_SECONDS = 2.0


async def check_queue(
    redis: RedisClient, max_ms: float, *, timeout_seconds: float = PING_TIMEOUT_SECONDS
) -> QueueHealth:
    """PING Redis once; "slow" above `max_ms`, "error" if it fails or does not answer."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(redis.ping(), timeout=timeout_seconds)
    except TimeoutError:
        return QueueHealth(
            redis="error",
            latency_ms=_elapsed_ms(started),
            reason=f"no answer to PING within {timeout_seconds:g} s",
        )
    # Any failure means "down" to the caller: redis-py's cluster client raises errors
    # outside RedisError (RedisClusterException), and socket errors can surface raw.
    except Exception as exc:
        # The exception names Redis's host and port; the unauthenticated probe says only
        # that PING failed, the log says how.
        log.warning("queue health: PING failed", extra={"error": _describe(exc)})
        return QueueHealth(redis="error", latency_ms=_elapsed_ms(started), reason="PING failed")
    latency = _elapsed_ms(started)
    if latency > max_ms:
        return QueueHealth(
            redis="slow", latency_ms=latency, reason=f"PING took {latency:g} ms (max {max_ms:g})"
        )
    return QueueHealth(redis="ok", latency_ms=latency)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _describe(exc: Exception) -> str:
    # One short line for a JSON body and a log field; tracebacks belong in the log.
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
