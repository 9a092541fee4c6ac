"""The watcher in-process on real redis-server and the engine double, with short settings
(the harness is tests/fixtures/watcher_node.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import TEST_BLOCK_SECONDS, RedisServer, free_port
from tests.fixtures.watcher_node import NODE, until, watcher
from tlfif import keys
from tlfif.contracts import InferRequest, Job, now_ms
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.runtime.logs import event_fields

pytestmark = pytest.mark.anyio


async def test_a_job_is_answered_signalled_and_acked(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as w:
        job = await w.submit("hello brave new world")
        reply = await w.reply(job)
        assert reply.status == "done" and reply.text == "hello brave new world"
        assert reply.finish_reason == "stop" and reply.model == "engine-double"
        assert reply.usage.completion_tokens == 4 and reply.usage.prompt_tokens > 0
        assert reply.latency_ms is not None and reply.queued_ms is not None
        await until(lambda: w.node.idle.active_jobs == 0, 2)
        assert await w.redis.llen(keys.inflight(NODE)) == 0
        assert not await w.redis.exists(keys.job(job.id))
        assert await w.heartbeat_state() == "ready"
        await until(lambda: len(w.marker.marked) == 1, 2)
        assert w.marker.marked[0][0] == w.self_stop.node
    assert w.task.result() == "shutdown"


async def test_jobs_run_concurrently(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.05
    async with watcher(redis_server.url, engine_double.url, concurrency=4) as w:
        jobs = [await w.submit(f"job {n} takes a few tokens to say") for n in range(8)]
        replies = [await w.reply(job) for job in jobs]
    assert all(reply.status == "done" for reply in replies)
    assert engine_double.double.max_in_flight == 4
    # Each job added to its user's month once; the shared run time split, not repeated.
    (record,) = w.usage.records.values()
    assert record.prompts == 8 and sorted(record.counted) == sorted(job.id for job in jobs)
    assert record.completion_tokens == sum(r.usage.completion_tokens for r in replies)
    assert 0 < record.node_seconds < sum(r.latency_ms or 0 for r in replies) / 1000


async def test_the_idle_tail_goes_to_the_last_job_at_the_self_stop(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ADR 0034: the job carries boot and run (job_answered), the self-stop's audit event
    the idle tail, which is added to the last job's user's month."""
    caplog.set_level(logging.INFO, logger="watcher")
    async with watcher(redis_server.url, engine_double.url, idle_cap_seconds=0.5) as w:
        job = await w.submit()
        await w.reply(job)
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=5) == "idle"
    answered = [f for r in caplog.records if (f := event_fields(r))["event"] == "job_answered"]
    assert answered[0]["nodeSeconds"] >= answered[0]["bootSeconds"] > 0
    assert answered[0]["costEur"] > 0
    (stop,) = [f for r in caplog.records if (f := event_fields(r))["event"] == "audit"]
    assert stop["action"] == "self_stop" and stop["lastJobId"] == job.id
    assert stop["sub"] == "alice" and 0.4 <= stop["idleSeconds"] < 2.0
    record = w.usage.records[(next(iter(w.usage.records))[0], "alice")]
    assert record.counted == [job.id, f"idle:{job.id}"] and record.prompts == 1
    assert record.node_seconds == pytest.approx(
        answered[0]["nodeSeconds"] + stop["nodeSeconds"], abs=0.01
    )


async def test_an_expired_job_gets_an_expired_reply(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as w:
        await w.node.gate.pause()  # hold claims while the job "expires"
        job = await w.submit()
        await w.redis.delete(keys.job(job.id))  # what its TTL does after 300 s
        await w.node.gate.resume()
        reply = await w.reply(job)
    assert reply.status == "expired" and reply.error and reply.error_code == "expired"
    assert engine_double.double.requests_for("hello world") == 0


async def test_an_unreadable_job_still_gets_an_error_reply(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as w:
        await w.node.gate.pause()
        job = await w.submit()
        await w.redis.set(keys.job(job.id), '{"id": "garbled"')
        await w.node.gate.resume()
        reply = await w.reply(job)
        assert reply.status == "error" and "ValidationError" in (reply.error or "")
        await until(lambda: w.node.idle.active_jobs == 0, 2)
        assert await w.redis.llen(keys.inflight(NODE)) == 0


async def test_engine_failures_beyond_retries_give_an_error_reply(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url, engine_retries=2) as w:
        await w.until_ready()
        engine_double.double.fail_next_requests = 3
        reply = await w.reply(await w.submit())
    assert reply.status == "error" and "500" in (reply.error or "")
    assert reply.error_code == "engine_error"
    assert engine_double.double.requests_for("hello world") == 3


async def test_a_cut_stream_is_retried_to_a_reply(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url, engine_retries=2) as w:
        await w.until_ready()
        engine_double.double.cut_next_streams = 1
        reply = await w.reply(await w.submit("one two three four"))
    assert reply.status == "done" and reply.text == "one two three four"
    assert engine_double.double.requests_for("one two three four") == 2


async def test_a_job_left_in_flight_is_reclaimed_and_answered_at_start(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    client = connect(redis_server.url, blocking_seconds=TEST_BLOCK_SECONDS)
    queue = JobQueue(client)
    job = Job.from_request(InferRequest(prompt="left behind"), "alice")
    await queue.enqueue(job)
    assert await queue.claim_next(NODE, timeout=1) == job.id  # a previous life took it
    await client.aclose()
    async with watcher(redis_server.url, engine_double.url) as w:
        reply = await w.reply(job)
        assert reply.status == "done" and reply.text == "left behind"
        await until(lambda: w.node.idle.active_jobs == 0, 2)
        assert await w.redis.llen(keys.inflight(NODE)) == 0


async def test_idle_node_stops_itself(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    # A longer beat keeps the "stopping" heartbeat alive long enough to read it.
    async with watcher(
        redis_server.url, engine_double.url, idle_cap_seconds=1.0, heartbeat_seconds=1.0
    ) as w:
        await w.until_ready()
        ready_at = time.monotonic()
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=5) == "idle"
        # The seed's accuracy goal: within 1 s of the idle window.
        assert 0.9 <= time.monotonic() - ready_at < 2.0  # 0.1 s: this test polls
        assert w.self_stop.stops == 1
        assert w.metrics.counts == {"AutoStops": 1.0}
        assert await w.heartbeat_state() == "stopping"


async def test_idle_timer_waits_for_running_and_pending_jobs(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.15  # ~1 s per job, twice the idle cap
    async with watcher(
        redis_server.url, engine_double.url, idle_cap_seconds=0.5, concurrency=1
    ) as w:
        stopped_ms: list[float] = []
        w.task.add_done_callback(lambda _: stopped_ms.append(time.time() * 1000))
        # One worker: while the first job runs, the second waits in pending.
        first = await w.submit("a slow job of seven words here")
        second = await w.submit("another slow job of seven words")
        await w.reply(first)
        assert w.self_stop.stops == 0
        last = await w.reply(second)
        assert w.self_stop.stops == 0
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=5) == "idle"
    assert w.self_stop.stops == 1
    # The window restarted when the last job finished, not at ready.
    assert 500 <= stopped_ms[0] - last.finished_ms < 1500


async def test_stop_script_declines_while_a_job_is_pending(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="watcher")
    async with watcher(redis_server.url, engine_double.url, idle_cap_seconds=0.3) as w:
        # Paused before the node is ready: no worker takes the job, it stays pending.
        await w.node.gate.pause()
        job = await w.submit()
        await until(lambda: logged(caplog, "idle_stop_declined"), 3)
        assert w.self_stop.stops == 0
        assert await w.heartbeat_state() == "ready"
        # Declining ended the stopper's own pause; once the test's ends too, the job is
        # answered, and only then does the node stop.
        await w.node.gate.resume()
        assert (await w.reply(job)).status == "done"
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=3) == "idle"
    assert w.self_stop.stops == 1


def logged(caplog: pytest.LogCaptureFixture, event: str, **fields: Any) -> bool:
    for record in caplog.records:
        seen = event_fields(record)
        if seen["event"] == event and all(seen.get(k) == v for k, v in fields.items()):
            return True
    return False


async def test_redis_outage_is_logged_and_survived(
    own_redis: RedisServer,
    engine_double: RunningEngineDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="watcher")
    engine_double.double.token_delay_seconds = 0.1
    async with watcher(own_redis.url, engine_double.url) as w:
        await w.until_ready()
        generating = await w.submit("generated while redis goes away")
        await until(lambda: engine_double.double.in_flight == 1, 3)
        own_redis.stop()
        await until(lambda: logged(caplog, "redis_health", redis="down"), 5)
        # The reply lands while Redis is down; its done signal and ack wait for Redis.
        await until(lambda: w.store.stored(generating.reply_key) is not None, 5)
        first = w.store.stored(generating.reply_key)
        await asyncio.sleep(0.5)
        own_redis.start()
        await until(lambda: logged(caplog, "redis_health", redis="ok"), 5)
        # The test's own pooled connections died with the server: read through new ones.
        w.redis = connect(own_redis.url, blocking_seconds=TEST_BLOCK_SECONDS)
        w.queue = JobQueue(w.redis)
        try:
            assert await w.queue.wait_done(generating.id, timeout=5)
            assert w.store.stored(generating.reply_key) == first  # written once
            after = await w.submit("asked after the outage")
            assert (await w.reply(after)).text == "asked after the outage"
            assert await w.heartbeat_state() == "ready"
        finally:
            await w.redis.aclose()


async def test_shutdown_while_redis_is_unreachable_exits_promptly(
    engine_double: RunningEngineDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="watcher")
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with watcher(nowhere, engine_double.url) as w:
        await until(lambda: logged(caplog, "redis_health", redis="down"), 5)
        await asyncio.sleep(0.3)
        w.node.request_shutdown()
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=3) == "shutdown"


async def test_heartbeat_tells_the_idle_window_for_the_safety_net(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url, idle_cap_seconds=60.0) as w:
        await w.until_ready()
        await w.reply(await w.submit("one two"))
        await asyncio.sleep(0.5)  # a beat or two after the job finished
        beats = [b for b in await NodeRegistry(w.redis).heartbeats() if b.node == NODE]
        assert beats and beats[0].idle_seconds == 60.0
        assert beats[0].idle_since_ms is not None
        assert 0 <= now_ms() - beats[0].idle_since_ms < 5000
