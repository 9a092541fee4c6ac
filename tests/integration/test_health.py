"""check_queue against a real redis-server: fast, slow (a busy server), silent, and down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.fixtures.redis_servers import RedisServer, free_port
from tlfif.health import check_queue
from tlfif.redis_conn import RedisClient, connect

pytestmark = pytest.mark.anyio

# Keeps the single-threaded server busy for ARGV[1] microseconds, so a PING from another
# connection waits: real latency, not a mocked clock.
BUSY_LUA = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local start = now()
while now() - start < tonumber(ARGV[1]) do end
return 1
"""


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[RedisClient]:
    client = connect(redis_server.url)
    yield client
    await client.aclose()


async def keep_busy(server: RedisServer, seconds: float) -> None:
    other = connect(server.url)
    try:
        await other.eval(BUSY_LUA, 0, int(seconds * 1_000_000))
    finally:
        await other.aclose()


async def test_a_fast_answer_is_ok(redis: RedisClient) -> None:
    health = await check_queue(redis, max_ms=200)
    assert health.ok and health.reason is None and 0 <= health.latency_ms < 200
    body = health.model_dump(by_alias=True, exclude_none=True)
    assert set(body) == {"redis", "latencyMs"}


async def test_an_answer_above_the_limit_is_slow(
    redis: RedisClient, redis_server: RedisServer
) -> None:
    await redis.ping()  # connected before the server turns busy
    busy = asyncio.create_task(keep_busy(redis_server, 0.3))
    await asyncio.sleep(0.05)
    health = await check_queue(redis, max_ms=100)
    await busy
    assert health.redis == "slow" and health.latency_ms > 100 and "max 100" in str(health.reason)


async def test_no_answer_in_time_is_an_error(redis: RedisClient, redis_server: RedisServer) -> None:
    await redis.ping()
    busy = asyncio.create_task(keep_busy(redis_server, 0.5))
    await asyncio.sleep(0.05)
    health = await check_queue(redis, max_ms=100, timeout_seconds=0.1)
    await busy
    assert health.redis == "error" and "no answer" in str(health.reason)


async def test_a_closed_port_is_an_error_that_names_no_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    redis = connect(f"redis://127.0.0.1:{port}/0")
    health = await check_queue(redis, max_ms=200)
    await redis.aclose()
    # The probe takes no token: it says that PING failed; the log says how.
    assert (health.redis, health.reason) == ("error", "PING failed")
    assert any(str(port) in str(getattr(r, "error", "")) for r in caplog.records)
