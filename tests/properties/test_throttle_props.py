"""tlfif/throttle.py on real Redis, for random limits and request times: no window of any
limit admits more than its requests, and Retry-After is truthful. The exact wait is what a
Python sliding log of the admitted requests says: a refused caller that comes back a
millisecond before it is refused again, one that comes back at it or after Retry-After
seconds (the wait in whole seconds, rounded up) is admitted.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from tests.doubles.cloud import MetricsDouble
from tests.doubles.wall_clock import WallClockDouble
from tests.fixtures.redis_servers import RedisServer
from tlfif.errors import Throttled
from tlfif.redis_conn import connect
from tlfif.throttle import Limit, Throttle

# An epoch-like start (ms) where ms / 1000 * 1000 gives back ms exactly for the hour after
# it (an example spans 21 minutes at most), so the script sees the very ms the test means.
BASE_MS = 1_700_000_000_000

# Whole and half seconds (exact in binary): the script gets exactly per_seconds * 1000 ms.
# A second at least, too: the key's PEXPIRE counts real time, and an example takes far less.
limits = st.builds(
    Limit,
    requests=st.integers(1, 4),
    per_seconds=st.integers(2, 40).map(lambda halves: halves / 2),
)
# Each request: ms since the one before, and when the caller comes back if refused (not on
# purpose, at the exact wait, or after Retry-After).
Step = tuple[int, str | None]
gaps_ms = st.just(0) | st.integers(1, 400) | st.integers(400, 20_000)
steps = st.lists(
    st.tuples(gaps_ms, st.sampled_from([None, "exact wait", "Retry-After"])),
    min_size=1,
    max_size=30,
)


@dataclass
class SlidingLog:
    """throttle.lua's rule in Python: how many ms until one more request would pass."""

    windows: list[tuple[int, int]]  # (requests, window ms) of each limit
    admitted: list[int] = field(default_factory=list)

    def wait_ms(self, now: int) -> int:
        wait = 0
        for requests, window in self.windows:
            inside = [t for t in self.admitted if t > now - window]
            if len(inside) >= requests:
                # One more fits once the `requests`-th newest has left the window.
                wait = max(wait, inside[-requests] + window - now)
        return wait


@dataclass
class Caller:
    """One caller's requests through the real Throttle, at the ms the test chooses."""

    throttle: Throttle
    clock: WallClockDouble
    who: str = field(default_factory=lambda: f"sub:{uuid.uuid4().hex}")
    admitted: list[int] = field(default_factory=list)

    async def request_at(self, ms: int) -> int | None:
        """None if admitted, else the Retry-After seconds it was told."""
        self.clock.now = ms / 1000
        assert int(self.clock.now * 1000) == ms
        try:
            await self.throttle.check(self.who, "write")
        except Throttled as refused:
            return refused.retry_after
        self.admitted.append(ms)
        return None


async def replay(url: str, limit_set: list[Limit], gaps: Sequence[Step]) -> Caller:
    redis = connect(url)
    try:
        clock = WallClockDouble()
        caller = Caller(Throttle(redis, {"write": limit_set}, MetricsDouble(), clock=clock), clock)
        model = SlidingLog([(lim.requests, int(lim.per_seconds * 1000)) for lim in limit_set])
        now = BASE_MS
        for gap, retry in gaps:
            now += gap
            wait = model.wait_ms(now)
            retry_after = await caller.request_at(now)
            if wait == 0:
                assert retry_after is None, f"refused at +{now - BASE_MS} ms with room left"
                model.admitted.append(now)
                continue
            assert retry_after is not None, f"admitted at +{now - BASE_MS} ms, {wait} ms early"
            # Whole seconds, rounded up: never early, and less than a second late.
            assert wait <= retry_after * 1000 < wait + 1000
            if retry is not None:
                assert await caller.request_at(now + wait - 1) is not None, "admitted 1 ms early"
                now += wait if retry == "exact wait" else retry_after * 1000
                assert await caller.request_at(now) is None, f"refused after the {retry}"
                model.admitted.append(now)
        return caller
    finally:
        await redis.aclose()


@given(limit_set=st.lists(limits, min_size=1, max_size=3), gaps=steps)
def test_no_window_admits_more_than_its_limit_and_retry_after_is_truthful(
    redis7: RedisServer, limit_set: list[Limit], gaps: list[Step]
) -> None:
    admitted = asyncio.run(replay(redis7.url, limit_set, gaps)).admitted
    for limit in limit_set:
        window = int(limit.per_seconds * 1000)
        for t in admitted:
            in_window = [s for s in admitted if t - window < s <= t]
            assert len(in_window) <= limit.requests, f"{len(in_window)} admitted under {limit}"
