"""The budget hold: its expiry at the month's turn, its precedence, the owner's lift."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import fakeredis
import pytest

from tests.doubles.cloud import FleetDouble, MetricsDouble
from tests.fixtures.redis_servers import free_port
from tlfif import keys
from tlfif.budget import (
    enforce_budget,
    first_of_next_month,
    lift_budget_hold,
    seconds_until_month_turns,
)
from tlfif.errors import QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.redis_conn import connect


@pytest.mark.parametrize(
    ("now", "turn"),
    [
        (datetime(2025, 11, 23, 12, 0, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)),
        (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2026, 2, 1, 0, 0, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_the_month_turns_at_midnight_utc_on_the_first(now: datetime, turn: datetime) -> None:
    assert first_of_next_month(now) == turn
    assert seconds_until_month_turns(now) == int((turn - now).total_seconds())


@pytest.fixture
async def registry() -> AsyncIterator[NodeRegistry]:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    yield NodeRegistry(redis)
    await redis.aclose()


@pytest.mark.anyio
async def test_enforce_sets_the_hold_until_the_turn_and_stops_everything(
    registry: NodeRegistry,
) -> None:
    metrics, fleet = MetricsDouble(), FleetDouble(["i-a", "i-b"])
    now = datetime.now(UTC)
    assert await enforce_budget(registry, fleet, metrics, now) == ["i-a", "i-b"]
    assert await registry.hold() == "budget"
    ttl = await registry.redis.ttl(keys.HOLD)
    assert abs(ttl - seconds_until_month_turns(now)) <= 2
    assert await registry.cached_ec2_state() == "stopping"
    # Again: nothing more to stop, the hold as it was.
    assert await enforce_budget(registry, fleet, metrics, now) == []
    assert metrics.counts == {"BudgetStops": 2.0}


@pytest.mark.anyio
async def test_with_redis_down_at_the_breach_the_gpu_stops_first_and_the_run_fails() -> None:
    closed = NodeRegistry(connect(f"redis://127.0.0.1:{free_port()}/0"))
    metrics, fleet = MetricsDouble(), FleetDouble(["i-a"])
    with pytest.raises(QueueUnavailable):
        await enforce_budget(
            closed, fleet, metrics, datetime.now(UTC), hold_tries=2, hold_pause_seconds=0.01
        )
    assert fleet.running == []  # stopped before the hold was even tried
    await closed.redis.aclose()


@pytest.mark.anyio
async def test_a_manual_hold_never_replaces_a_budget_hold(registry: NodeRegistry) -> None:
    await registry.set_hold("budget", 3600)
    await registry.set_hold("manual")  # POST /stop during the budget hold
    assert await registry.hold() == "budget"
    await registry.clear_manual_hold()  # the next POST /infer
    assert await registry.hold() == "budget"
    await registry.set_hold("manual")
    assert await registry.redis.ttl(keys.HOLD) > 3500  # still the budget's expiry


@pytest.mark.anyio
async def test_the_owner_lifts_a_budget_hold_but_not_a_manual_one(registry: NodeRegistry) -> None:
    assert not await lift_budget_hold(registry)
    await registry.set_hold("budget", 3600)
    assert await lift_budget_hold(registry)
    assert await registry.hold() is None
    await registry.set_hold("manual")
    assert not await lift_budget_hold(registry)
    assert await registry.hold() == "manual"
