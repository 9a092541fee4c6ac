"""Another node for a backlog (ADR 0032), decided by the router as jobs are queued and by
the scheduled check each minute: Redis alone until one is due, then one EC2 call under the
start lock, and no second while the first one boots. Real redis-server; the fleet is the
NodeControl double with a second instance."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.cloud import FleetDouble, MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on
from tlfif import keys
from tlfif.check import CheckPorts, run_check
from tlfif.contracts import InferRequest, Job
from tlfif.nodes import NodeRegistry, NodeView
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.settings import CheckSettings, CommonSettings
from tlfif.wake import NodeWaker, Scaling

pytestmark = pytest.mark.anyio

BACKLOG = 2  # jobs per beating node before another is started


def fleet() -> NodeControlDouble:
    """Node i-0 running (its watcher beats), i-1 stopped."""
    return NodeControlDouble(current="running", others={"i-1": "stopped"})


@pytest.fixture
async def router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> AsyncIterator[RouterHarness]:
    common = CommonSettings(node_count_max=2, scale_out_backlog=BACKLOG)
    async with router_on(redis_server, token_issuer, node=fleet(), common=common) as harness:
        await NodeRegistry(harness.redis).beat("i-0", "ready", 30)
        yield harness


async def send(router: RouterHarness, count: int) -> None:
    for index in range(count):
        answer = await router.infer({"prompt": f"job {index}"})
        assert answer.status_code == 202, answer.text


async def test_a_backlog_starts_one_more_node_once(router: RouterHarness) -> None:
    await send(router, BACKLOG)  # two jobs for one ready node: no more
    assert "scale_out" not in router.node.calls
    assert not await router.redis.exists(keys.SCALED_OUT)

    await send(router, 1)  # the third is one too many for one node
    assert router.node.calls == ["scale_out"] and router.node.others == {"i-1": "pending"}
    assert router.metrics.counts["ScaleOuts"] == 1

    await send(router, 5)  # the new node has not beaten yet: none more is asked for
    assert router.node.calls == ["scale_out"]


async def test_no_scale_out_past_the_limit_or_under_a_hold(router: RouterHarness) -> None:
    registry = NodeRegistry(router.redis)
    await registry.beat("i-1", "ready", 30)  # two nodes beat: the limit of two
    await send(router, 2 * BACKLOG + 3)
    assert "scale_out" not in router.node.calls


async def test_one_node_allowed_never_asks_ec2(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    async with router_on(redis_server, token_issuer, node=fleet()) as router:
        await NodeRegistry(router.redis).beat("i-0", "ready", 30)
        await send(router, 12)
        assert router.node.calls == []


async def test_a_refused_start_leaves_the_jobs_queued(router: RouterHarness) -> None:
    router.node.refuse_start = "InsufficientInstanceCapacity"
    await send(router, BACKLOG + 2)
    assert router.node.calls == ["scale_out"] and await router.queue.depth() == BACKLOG + 2
    assert "ScaleOuts" not in router.metrics.counts


async def test_the_scheduled_check_scales_out_for_a_backlog_nobody_adds_to(
    redis_server: RedisServer,
) -> None:
    redis = connect(redis_server.url)
    try:
        await redis.flushall()
        registry = NodeRegistry(redis)
        await registry.beat("i-0", "ready", 30)
        queue = JobQueue(redis)
        for index in range(BACKLOG + 1):
            await queue.enqueue(Job.from_request(InferRequest(prompt=f"job {index}"), "alice"))
        control, metrics = fleet(), MetricsDouble()
        ports = CheckPorts(lambda: control, FleetDouble, ReplyStoreDouble(), metrics)
        scaling = Scaling(node_count_max=2, backlog=BACKLOG)
        report = await run_check(redis, ports, CheckSettings(), scaling=scaling)
        assert report.action == "scaled_out" and control.others == {"i-1": "pending"}
        again = await run_check(redis, ports, CheckSettings(), scaling=scaling)
        assert again.action == "none" and control.calls.count("scale_out") == 1
    finally:
        await redis.aclose()


async def test_a_stopping_node_is_not_counted_and_with_none_up_the_first_start_is_not_its(
    redis_server: RedisServer,
) -> None:
    redis = connect(redis_server.url)
    try:
        await redis.flushall()
        control, registry = fleet(), NodeRegistry(redis)
        waker = NodeWaker(registry, lambda: control, MetricsDouble(), scaling=Scaling(2, BACKLOG))
        # No node beats: starting the first is ensure_awake's, never a scale-out.
        assert not await waker.scale_out(NodeView(None, [], None), depth=50)
        # One node ready, one going down: the backlog is the ready one's alone, so another
        # is started although two beat (the limit).
        await registry.beat("i-0", "ready", 30)
        await registry.beat("i-1", "stopping", 30)
        view = NodeView(None, await registry.heartbeats(), None)
        assert len(view.beats) == 2
        assert await waker.scale_out(view, depth=BACKLOG + 1)
        assert control.calls == ["scale_out"]
    finally:
        await redis.aclose()
