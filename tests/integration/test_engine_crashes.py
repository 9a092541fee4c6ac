"""An engine that crashes loses no prompt and never loops a GPU (ADR 0018).

The watcher runs in-process on real Redis; the engine is the engine double as a process of
its own, killed with SIGKILL as a crash would, and started again by a double of systemd's
Restart=on-failure. The router and the scheduled check are the real ones, on doubles of EC2.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.engine import EngineProcess, RestartOnFailureDouble, RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import router_on
from tests.fixtures.watcher_node import Watcher, until, watcher
from tlfif.check import CheckPorts, run_check
from tlfif.contracts import InferRequest, Job, Reply, now_ms
from tlfif.nodes import NodeRegistry
from tlfif.settings import CheckSettings

pytestmark = pytest.mark.anyio

MakeEngine = Callable[..., EngineProcess]
TEN_WORDS = "one two three four five six seven eight nine ten"


async def phases_until_replied(w: Watcher, job: Job, timeout: float = 20) -> tuple[Reply, set[str]]:
    """The job's reply, and every heartbeat state seen while waiting for it."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while not await w.queue.wait_done(job.id, 0.05):
        seen.add(str(await w.heartbeat_state()))
        assert time.monotonic() < deadline, f"no reply to {job.id}; states seen {seen}"
    reply = w.store.stored(job.reply_key)
    assert reply is not None
    return reply, seen


async def test_an_engine_killed_mid_stream_and_restarted_answers_the_job_once(
    redis_server: RedisServer, engine_process: MakeEngine
) -> None:
    engine = engine_process(token_delay_seconds=0.1)
    # An idle cap shorter than the outage: a frozen timer must not stop the node meanwhile.
    async with watcher(redis_server.url, engine.url, idle_cap_seconds=0.5) as w:
        await w.until_ready()
        job = await w.submit(TEN_WORDS)
        await until(lambda: engine.state()["in_flight"] == 1, 5)
        await asyncio.sleep(0.3)  # a few tokens out
        with RestartOnFailureDouble(engine, delay_seconds=1.0):
            engine.kill()
            reply, states = await phases_until_replied(w, job)
        assert reply.status == "done" and reply.text == TEN_WORDS
        assert "engine_restarting" in states
        assert w.self_stop.stops == 0, "the idle timer ran while the engine was down"
        assert w.store.puts == 1
        assert engine.starts == 2 and w.node.outage.deaths == 1
        assert await w.heartbeat_state() == "ready"


async def test_a_prompt_that_kills_the_engine_each_time_is_answered_crashed_and_others_run(
    redis_server: RedisServer, engine_process: MakeEngine
) -> None:
    engine = engine_process(token_delay_seconds=0.05, die_on="poison")
    with RestartOnFailureDouble(engine, delay_seconds=0.2) as systemd:
        async with watcher(redis_server.url, engine.url, concurrency=2) as w:
            await w.until_ready()
            # Both in the engine at the first crash: the bystander must not share the fate.
            deadly = await w.submit("a poison prompt that kills its engine")
            bystander = await w.submit(TEN_WORDS)
            crashed, _ = await phases_until_replied(w, deadly)
            survived, _ = await phases_until_replied(w, bystander)
            after = await w.reply(await w.submit("asked after the crashes"))
    assert crashed.status == "error" and crashed.error_code == "engine_crashed"
    assert "2 times" in (crashed.error or "")
    assert survived.status == "done" and survived.text == TEN_WORDS
    assert after.status == "done" and after.text == "asked after the crashes"
    # K = 2 crashes (engine_crash_limit), then the prompt is not run again.
    assert systemd.restarts == 2
    assert w.store.puts == 3


async def test_an_engine_that_never_comes_back_stops_the_node_and_nothing_restarts_it(
    redis_server: RedisServer, engine_process: MakeEngine, token_issuer: TokenIssuerDouble
) -> None:
    engine = engine_process(token_delay_seconds=0.2)
    async with watcher(
        redis_server.url, engine.url, concurrency=1, readiness_timeout_seconds=1.0
    ) as w:
        await w.until_ready()
        running = await w.submit(TEN_WORDS)
        waiting = await w.submit("queued behind it")
        await until(lambda: engine.state()["in_flight"] == 1, 5)
        engine.kill()  # and nothing starts it again
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=15) == "engine_failed"
        replies = [await w.reply(running), await w.reply(waiting)]
        failure = await NodeRegistry(w.redis).start_error()
        assert await w.redis.llen("{tlfif}:pending") == 0
    assert [reply.error_code for reply in replies] == ["engine_failed", "engine_failed"]
    assert all(reply.status == "error" for reply in replies)
    assert w.self_stop.stops == 1 and w.metrics.counts == {"EngineFailedStops": 1}
    assert failure is not None and (failure.kind, failure.code) == ("engine", "engine_failed")

    node = NodeControlDouble()  # the instance the watcher stopped
    async with router_on(redis_server, token_issuer, node=node) as router:
        # A job that reached the queue without a prompt's POST (the reaper put it back):
        # neither its poll nor the scheduled check starts the node for it.
        stray = Job.from_request(InferRequest(prompt="stray"), sub_of("alice"))
        await router.queue.enqueue(stray)
        polled = await router.result(stray.id)
        assert polled.status_code == 202 and polled.json()["node"] in ("stopping", "stopped")
        report = await run_check(router.redis, check_ports(node), CheckSettings())
        assert report.action == "held_engine_failed"
        assert "start" not in node.calls
        status = (await router.client.get("/status", headers=router.auth())).json()
        assert status["start_error"]["code"] == "engine_failed"
        # The next prompt does.
        assert (await router.infer({"prompt": "try again"})).status_code == 202
        assert node.calls[-1] == "start"


async def test_an_engine_that_never_produces_a_token_at_boot_stops_the_node(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.ready = False
    async with watcher(redis_server.url, engine_double.url) as w:
        old = await w.submit("sent before the failure")
        # One sent after it (its clock a minute ahead) lifted the failure: it stays queued
        # for the start it asked for, at the head of the queue.
        later = Job.from_request(InferRequest(prompt="sent after"), "alice")
        await w.queue.enqueue(later.model_copy(update={"created_ms": now_ms() + 60_000}))
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=15) == "engine_failed"
        answered = await w.reply(old)
        assert await w.redis.lrange("{tlfif}:pending", 0, -1) == [later.id]
        assert await w.heartbeat_state() == "stopping"
    assert (answered.status, answered.error_code) == ("error", "engine_failed")
    assert w.self_stop.stops == 1
    assert engine_double.double.requests_for("sent before the failure") == 0


async def test_an_engine_that_refuses_one_job_fails_that_job_alone(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.fail_on = "refuse"
    async with watcher(redis_server.url, engine_double.url, engine_retries=2) as w:
        refused = await w.reply(await w.submit("please refuse this"))
        fine = await w.reply(await w.submit("and answer this"))
        deaths = w.node.outage.deaths
    assert (refused.status, refused.error_code) == ("error", "engine_error")
    assert "500" in (refused.error or "")
    assert engine_double.double.requests_for("please refuse this") == 3  # 1 + 2 retries
    assert fine.status == "done" and fine.text == "and answer this"
    assert deaths == 0  # an HTTP error is the job's, not the engine's


def check_ports(node: NodeControlDouble) -> CheckPorts:
    def no_fleet() -> Any:
        raise AssertionError("the budget killer's fleet is not for this test")

    return CheckPorts(lambda: node, no_fleet, ReplyStoreDouble(), MetricsDouble())
