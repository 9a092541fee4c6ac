"""Waking the node: Redis answers the warm path; EC2 is asked only when the node is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest

from tests.doubles.cloud import MetricsDouble, NodeControlDouble
from tlfif.errors import BudgetHold
from tlfif.nodes import NodeRegistry
from tlfif.wake import NodeWaker, seconds_until_ready

pytestmark = pytest.mark.anyio


@pytest.fixture
async def registry() -> AsyncIterator[NodeRegistry]:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    yield NodeRegistry(redis)
    await redis.aclose()


def waker_for(registry: NodeRegistry, node: NodeControlDouble) -> tuple[NodeWaker, MetricsDouble]:
    metrics = MetricsDouble()
    return NodeWaker(registry, lambda: node, metrics), metrics


async def test_stopped_node_is_started_once(registry: NodeRegistry) -> None:
    node = NodeControlDouble()
    waker, metrics = waker_for(registry, node)
    wake = await waker.ensure_awake()
    assert wake.started and wake.phase == "starting"
    assert metrics.counts == {"EC2Starts": 1}
    # The cached state answers the next call: no AWS call on the way.
    again = await waker.ensure_awake()
    assert not again.started and again.phase == "starting"
    assert node.calls == ["state", "start"]


async def test_live_heartbeat_means_no_aws_call(registry: NodeRegistry) -> None:
    node = NodeControlDouble()
    await registry.beat("i-1", "ready", ttl_seconds=30)
    waker, _ = waker_for(registry, node)
    assert (await waker.ensure_awake()).phase == "ready"
    assert node.calls == []


async def test_refused_start_is_recorded_not_swallowed(registry: NodeRegistry) -> None:
    node = NodeControlDouble(refuse_start="InsufficientInstanceCapacity")
    waker, _ = waker_for(registry, node)
    wake = await waker.ensure_awake()
    assert wake.error == "the node could not be started"
    error = await registry.start_error()
    assert error is not None and error.code == "node_start_refused"
    node.refuse_start = None
    assert (await waker.ensure_awake()).started  # retried on the next call
    assert await registry.start_error() is None


async def test_manual_hold_keeps_polls_from_restarting(registry: NodeRegistry) -> None:
    node = NodeControlDouble(current="running")
    waker, metrics = waker_for(registry, node)
    await waker.stop()
    assert metrics.counts == {"ManualStops": 1}
    assert (await waker.ensure_awake()).phase == "stopped"
    assert "start" not in node.calls
    await registry.clear_manual_hold()  # what a new prompt does
    assert (await waker.ensure_awake(for_new_prompt=True)).started


async def test_budget_hold_refuses_every_start(registry: NodeRegistry) -> None:
    waker, _ = waker_for(registry, NodeControlDouble())
    await registry.set_hold("budget")
    with pytest.raises(BudgetHold):
        await waker.ensure_awake(for_new_prompt=True)
    await registry.clear_manual_hold()
    assert await registry.hold() == "budget"


async def test_concurrent_callers_share_one_start(registry: NodeRegistry) -> None:
    node = NodeControlDouble()
    waker, _ = waker_for(registry, node)
    assert await registry.take_start_lock(10)
    wake = await waker.ensure_awake()  # another router holds the lock
    assert wake.phase == "starting" and node.calls == []


def test_the_time_a_node_likely_still_needs() -> None:
    # Ready: the warm estimate. Coming up: the cold estimate less what the job waited,
    # never below the warm one.
    assert seconds_until_ready("ready", 40, cold_eta=90, warm_eta=5) == 5
    assert seconds_until_ready("starting", 25.2, cold_eta=90, warm_eta=5) == 65
    assert seconds_until_ready("loading", 88, cold_eta=90, warm_eta=5) == 5
    assert seconds_until_ready("stopped", 0, cold_eta=90, warm_eta=5) == 90
