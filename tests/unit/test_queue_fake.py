"""Fast queue checks on fakeredis (its Lua support); blocking paths run on real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest

from tlfif import keys
from tlfif.contracts import InferRequest, Job
from tlfif.errors import QueueUnavailable
from tlfif.queue import JobQueue

pytestmark = pytest.mark.anyio


@pytest.fixture
async def queue() -> AsyncIterator[JobQueue]:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    yield JobQueue(redis, job_ttl_seconds=300)
    await redis.aclose()


async def test_enqueue_sets_the_300s_ttl(queue: JobQueue) -> None:
    job = Job.from_request(InferRequest(prompt="x"), "alice")
    await queue.enqueue(job)
    assert 295 <= await queue.redis.ttl(keys.job(job.id)) <= 300
    assert await queue.redis.ttl(keys.owner(job.id)) > 86000


async def test_lua_refuses_other_key_shapes(queue: JobQueue) -> None:
    job = Job.from_request(InferRequest(prompt="x"), "alice")
    with pytest.raises(QueueUnavailable, match="bad job key"):
        await queue.enqueue(job.model_copy(update={"id": "1234"}))


async def test_idempotency(queue: JobQueue) -> None:
    first = Job.from_request(InferRequest(prompt="x"), "alice")
    second = Job.from_request(InferRequest(prompt="x"), "alice")
    assert (await queue.enqueue(first, "key")).id == first.id
    repeat = await queue.enqueue(second, "key")
    assert repeat.id == first.id and not repeat.created
    assert await queue.depth() == 1


async def test_redis_down_is_queue_unavailable() -> None:
    from redis.asyncio import Redis

    queue = JobQueue(Redis(port=1, socket_connect_timeout=0.2))
    with pytest.raises(QueueUnavailable):
        await queue.enqueue(Job.from_request(InferRequest(prompt="x"), "alice"))
