"""Redis connection health as the watcher sees it: back off while down, say so once.

Every loop that talks to Redis (heartbeat, claims, delivery) keeps its own Backoff and
reports to one shared RedisHealth, which logs a line only when the state changes: an
outage reads as one "down" line and one "ok" line, not a line per failed call. Loops back
off through RedisHealth.pause, so all of them retry the moment one finds Redis back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from tlfif.runtime.logs import log_event

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.25


class Backoff:
    """Exponential delays from FIRST_DELAY_SECONDS up to `max_seconds`; reset on success."""

    def __init__(self, max_seconds: float, first_seconds: float = FIRST_DELAY_SECONDS) -> None:
        self.max_seconds = max_seconds
        self.first_seconds = min(first_seconds, max_seconds)
        self._failures = 0

    def next_delay(self) -> float:
        delay = min(self.max_seconds, self.first_seconds * 2.0**self._failures)
        self._failures += 1
        return delay

    def reset(self) -> None:
        self._failures = 0


class RedisHealth:
    """Whether Redis answered the last call, shared by all the watcher's loops."""

    def __init__(self) -> None:
        self._down_since: float | None = None
        # Set while Redis answers: a loop backing off wakes the moment another loop finds
        # Redis back, rather than sleeping out a backoff that grew during the outage.
        self._up = asyncio.Event()
        self._up.set()

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    async def pause(self, seconds: float) -> None:
        """Back off for `seconds`, or less: until any loop finds Redis answering again."""
        if self._up.is_set():
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._up.wait()

    def failed(self, error: Exception, retry_in: float) -> None:
        self._up.clear()
        if self._down_since is None:
            self._down_since = time.monotonic()
            log_event(
                log,
                "redis_health",
                logging.WARNING,
                redis="down",
                error=str(error),
                retryInSeconds=round(retry_in, 3),
            )

    def answered(self) -> None:
        self._up.set()
        if self._down_since is not None:
            down_for = time.monotonic() - self._down_since
            self._down_since = None
            log_event(log, "redis_health", redis="ok", downSeconds=round(down_for, 3))
