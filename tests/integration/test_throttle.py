"""tlfif/throttle.py on real Redis (7, 6.2 and cluster mode): limits, exact Retry-After,
atomicity under concurrency. Time is a fake clock passed into the script: no sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.doubles.cloud import MetricsDouble
from tests.doubles.wall_clock import WallClockDouble
from tests.fixtures.redis_servers import RedisServer, free_port
from tlfif import keys
from tlfif.errors import QueueUnavailable, Throttled
from tlfif.redis_conn import RedisClient, connect
from tlfif.throttle import Limit, Throttle

pytestmark = pytest.mark.anyio

WRITE = [Limit(5, 1), Limit(20, 60)]
READ = [Limit(10, 1), Limit(300, 60)]


@pytest.fixture
async def redis(any_redis: RedisServer) -> AsyncIterator[RedisClient]:
    client = connect(any_redis.url, cluster=any_redis.cluster)
    yield client
    await client.aclose()


def throttle(
    redis: RedisClient, clock: WallClockDouble, metrics: MetricsDouble | None = None
) -> Throttle:
    buckets = {"write": WRITE, "read": READ}
    return Throttle(redis, buckets, metrics or MetricsDouble(), clock=clock)


async def admitted(limiter: Throttle, who: str = "sub:alice", bucket: str = "write") -> bool:
    try:
        await limiter.check(who, bucket)
    except Throttled:
        return False
    return True


async def refusal(limiter: Throttle, who: str = "sub:alice", bucket: str = "write") -> int:
    with pytest.raises(Throttled) as refused:
        await limiter.check(who, bucket)
    assert refused.value.retry_after is not None
    return refused.value.retry_after


async def test_a_burst_of_five_passes_and_the_sixth_waits_one_second(redis: RedisClient) -> None:
    clock, metrics = WallClockDouble(), MetricsDouble()
    limiter = throttle(redis, clock, metrics)
    assert [await admitted(limiter) for _ in range(5)] == [True] * 5
    assert await refusal(limiter) == 1
    assert metrics.counts == {"RateLimitBreaches": 1}
    clock.now += 0.999
    assert not await admitted(limiter)
    clock.now += 0.001  # the first five leave the one-second window
    assert await admitted(limiter)


async def test_the_21st_within_a_minute_waits_until_the_first_leaves(redis: RedisClient) -> None:
    clock = WallClockDouble()
    start = clock.now
    limiter = throttle(redis, clock)
    for second in range(20):  # one a second: never a burst
        clock.now = start + second
        assert await admitted(limiter)
    clock.now = start + 19.5
    # The request at +0 leaves the 60 s window at +60: 40.5 s away, rounded up.
    assert await refusal(limiter) == 41
    clock.now = start + 59.999
    assert not await admitted(limiter)
    clock.now = start + 60
    assert await admitted(limiter)


async def test_retry_after_is_when_a_request_would_pass(redis: RedisClient) -> None:
    clock = WallClockDouble()
    limiter = throttle(redis, clock)
    for _ in range(5):
        await limiter.check("sub:alice", "write")
    clock.now += 0.25
    wait = await refusal(limiter)
    assert wait == 1  # 0.75 s, never rounded down to 0
    clock.now += wait
    assert await admitted(limiter)


async def test_refused_requests_do_not_count(redis: RedisClient) -> None:
    clock = WallClockDouble()
    limiter = throttle(redis, clock)
    for _ in range(5):
        await limiter.check("sub:alice", "write")
    for _ in range(50):  # a client hammering while refused is not locked out for longer
        assert not await admitted(limiter)
    clock.now += 1
    assert await admitted(limiter)


async def test_callers_and_buckets_are_counted_apart(redis: RedisClient) -> None:
    limiter = throttle(redis, WallClockDouble())
    for _ in range(5):
        await limiter.check("sub:alice", "write")
    assert not await admitted(limiter, "sub:alice", "write")
    assert await admitted(limiter, "sub:bob", "write")
    assert await admitted(limiter, "ip:203.0.113.7", "write")
    assert [await admitted(limiter, "sub:alice", "read") for _ in range(10)] == [True] * 10
    assert not await admitted(limiter, "sub:alice", "read")


async def test_a_zero_limit_is_no_limit(redis: RedisClient) -> None:
    limiter = Throttle(redis, {"write": [Limit(0, 1), Limit(0, 60)]}, MetricsDouble())
    assert all([await admitted(limiter) for _ in range(50)])
    assert await redis.exists(keys.throttle("sub:alice", "write")) == 0


async def test_the_log_expires_with_its_longest_window(redis: RedisClient) -> None:
    limiter = throttle(redis, WallClockDouble())
    await limiter.check("sub:alice", "write")
    ttl = await redis.pttl(keys.throttle("sub:alice", "write"))
    assert 0 < ttl <= 60_000


async def test_concurrent_requests_never_pass_the_limit(any_redis: RedisServer) -> None:
    """Eight clients (own connections, as separate router processes have) fire at once."""
    clock = WallClockDouble()
    clients = [connect(any_redis.url, cluster=any_redis.cluster) for _ in range(8)]
    try:
        limiters = [throttle(client, clock) for client in clients]
        attempts = [admitted(limiters[i % 8]) for i in range(40)]
        results = await asyncio.gather(*attempts)
        assert results.count(True) == 5
    finally:
        for client in clients:
            await client.aclose()


async def test_redis_down_refuses_rather_than_admits() -> None:
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(QueueUnavailable):
            await throttle(client, WallClockDouble()).check("sub:alice", "write")
    finally:
        await client.aclose()
