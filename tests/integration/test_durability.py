"""Redis may restart, lose its data or freeze: S3 still answers for every reply, requests
answer before API Gateway's 30 s, the watcher is back within seconds, and a job a stop cut
off keeps only the rest of its lifetime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import TEST_BLOCK_SECONDS, RedisServer
from tests.fixtures.router_app import RouterHarness, router_on
from tests.fixtures.watcher_node import until, watcher
from tlfif import keys
from tlfif.contracts import Job, Reply
from tlfif.delivery import deliver
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect

pytestmark = pytest.mark.anyio

# API Gateway cuts a request at 30 s: every answer must come before, with our own 503.
ANSWER_WITHIN_SECONDS = 28.0


async def test_a_reply_is_found_in_s3_after_redis_lost_the_job(router: RouterHarness) -> None:
    job_id = (await router.infer({"prompt": "remember me"}, sub="bob")).json()["id"]
    stored = await router.redis.get(keys.job(job_id))
    assert stored is not None
    job = Job.model_validate_json(stored)
    reply = Reply(id=job_id, status="done", text="remembered")
    await deliver(router.queue, router.replies, job.reply_key, reply)
    await router.redis.flushall()  # a restart without persistence, a failover
    found = await router.result(job_id, sub="bob")
    assert found.status_code == 200 and found.json() == reply.model_dump(mode="json")
    # Only its submitter's key is ever looked up: anyone else finds nothing.
    assert (await router.result(job_id, sub="carol")).status_code == 404


async def test_with_redis_frozen_every_request_answers_before_the_gateway_gives_up(
    own_redis: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    async with router_on(own_redis, token_issuer) as router:
        job_id = (await router.infer({"prompt": "hi"})).json()["id"]
        own_redis.freeze()
        try:
            timings: dict[str, float] = {}
            calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
                "POST /infer": lambda: router.infer({"prompt": "frozen"}),
                "GET /status": lambda: router.client.get("/status", headers=router.auth()),
                "GET /result?wait=25": lambda: router.result(job_id, wait=25),
            }
            for name, call in calls.items():
                started = time.monotonic()
                answer = await call()
                timings[name] = time.monotonic() - started
                assert answer.status_code == 503, (name, answer.text)
                assert answer.headers["retry-after"]
        finally:
            own_redis.thaw()
    print(f"answers with Redis frozen: { {k: round(v, 1) for k, v in timings.items()} }")
    assert max(timings.values()) < ANSWER_WITHIN_SECONDS, timings


async def test_the_watcher_answers_within_seconds_once_redis_is_back(
    own_redis: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.05
    # The production backoff (up to 30 s): a loop asleep in it must wake when Redis is back.
    async with watcher(own_redis.url, engine_double.url, redis_backoff_max_seconds=30.0) as w:
        await w.until_ready()
        job = await w.submit("one two three four five six seven eight nine ten")
        await until(lambda: engine_double.double.in_flight == 1, 5)
        own_redis.stop()
        await asyncio.sleep(8)  # long enough for the backoffs to grow past 4 s
        own_redis.start()  # same port, same folder: the append-only file brings the queue back
        back = time.monotonic()
        w.redis = connect(own_redis.url, blocking_seconds=TEST_BLOCK_SECONDS)
        w.queue = JobQueue(w.redis)
        try:
            assert await w.queue.wait_done(job.id, timeout=20)
            answered_after = time.monotonic() - back
            assert w.store.stored(job.reply_key) is not None
        finally:
            await w.redis.aclose()
    print(f"in-flight job answered {answered_after:.1f} s after Redis came back")
    assert answered_after < 5, answered_after


async def test_a_job_cut_off_by_a_stop_keeps_only_the_rest_of_its_lifetime(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.5  # far longer than the grace
    async with watcher(redis_server.url, engine_double.url, shutdown_grace_seconds=0.3) as w:
        await w.until_ready()
        job = await w.submit("a long answer " * 5)
        await until(lambda: engine_double.double.in_flight == 1, 5)
        w.node.request_shutdown()
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=10) == "shutdown"
        assert await w.redis.lrange(keys.PENDING, 0, -1) == [job.id]
        assert await w.redis.llen(keys.inflight("node-test")) == 0
        ttl = await w.redis.pttl(keys.job(job.id))
    # Its own 300 s from creation, not the in-flight hour: answered in time, or as expired.
    assert 0 < ttl <= 300_000, ttl
