"""Per-caller rate limits in Redis, shared by every router process.

Each check is one Lua script (lua/throttle.lua) over a sliding log of the caller's admitted
requests, so several routers (Lambda instances, uvicorn workers) enforce one limit. A
bucket has several limits at once (a burst per second and a sustained rate per minute); a
refused request is told exactly when one would pass, for the Retry-After header.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tlfif import keys
from tlfif.errors import Throttled
from tlfif.ports import Metrics
from tlfif.redis_conn import RedisClient, load_script, queue_errors

BREACH_METRIC = "RateLimitBreaches"


@dataclass(frozen=True)
class Limit:
    """At most `requests` in any window of `per_seconds`; 0 requests means no limit."""

    requests: int
    per_seconds: float

    @property
    def active(self) -> bool:
        return self.requests > 0 and self.per_seconds > 0


class Throttle:
    """Admits or refuses one request of a caller in a bucket ("write", "read", ...).

    `clock` returns seconds since the epoch; it is passed into the script rather than read
    there (Redis TIME) so that tests can replay minutes of polling without sleeping.
    """

    def __init__(
        self,
        redis: RedisClient,
        buckets: Mapping[str, Sequence[Limit]],
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.buckets = {
            name: [lim for lim in limits if lim.active] for name, limits in buckets.items()
        }
        self.metrics = metrics
        self.clock = clock
        self._script = load_script(redis, "throttle")

    async def check(self, who: str, bucket: str) -> None:
        """Record one request of `who` in `bucket`, or raise Throttled with Retry-After.

        Raises QueueUnavailable if Redis fails: refusing is safer than not counting.
        """
        limits = self.buckets[bucket]
        if not limits:
            return
        args: list[int | str] = [int(self.clock() * 1000), uuid.uuid4().hex]
        for limit in limits:
            args += [limit.requests, int(limit.per_seconds * 1000)]
        with queue_errors():
            wait_ms = int(await self._script(keys=[keys.throttle(who, bucket)], args=args))
        if wait_ms > 0:
            self.metrics.count(BREACH_METRIC)
            retry_after = _retry_after(wait_ms)
            raise Throttled(
                f"too many requests; try again in {retry_after} s", retry_after=retry_after
            )


def _retry_after(wait_ms: int) -> int:
    # Whole seconds (the header's unit), rounded up so a retry at once is never early.
    return max(1, math.ceil(wait_ms / 1000))
