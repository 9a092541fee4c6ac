"""The budget hold: set when AWS Budgets says the month's budget is spent, lifted by the
month's turn (its TTL) or by the owner (`tlfif budget resume`).

While it is set every start is refused (tlfif/wake.py) and nothing is queued (POST /infer
answers 503 budget_reached); the killer and the scheduled check stop whatever still runs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from tlfif import keys
from tlfif.errors import QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.ports import Metrics, NodeFleet
from tlfif.redis_conn import RedisClient, queue_errors

log = logging.getLogger(__name__)

BUDGET_STOPS_METRIC = "BudgetStops"
# The hold is written after the stop: tries, and the pause growing by this much each time.
HOLD_TRIES = 4
HOLD_PAUSE_SECONDS = 0.5
# The router's short EC2-state cache: /status shows "stopping" at once.
STOPPING_CACHE_SECONDS = 15


def first_of_next_month(now: datetime) -> datetime:
    """00:00 UTC on the first of the month after `now`: when AWS's monthly bill restarts."""
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def seconds_until_month_turns(now: datetime) -> int:
    return max(1, int((first_of_next_month(now) - now).total_seconds()))


async def enforce_budget(
    registry: NodeRegistry,
    fleet: NodeFleet,
    metrics: Metrics,
    now: datetime,
    *,
    hold_tries: int = HOLD_TRIES,
    hold_pause_seconds: float = HOLD_PAUSE_SECONDS,
) -> list[str]:
    """Stop every running tagged instance, then set the budget hold until the month turns.

    The stop comes first: with Redis down at the breach, a hold-first order would leave the
    GPU running until the idle-miss alarm. The hold is then retried; if Redis stays down it
    raises QueueUnavailable, so the budget killer's run fails and is retried (a start that
    slipped in meanwhile is stopped again then). Safe to repeat: the hold's expiry is the same
    instant, and nothing running means nothing stopped. Returns the ids stopped.
    """
    stopped = await asyncio.to_thread(fleet.stop_all_running)
    if stopped:
        log.warning("budget reached: node stopped", extra={"instances": stopped})
    metrics.count(BUDGET_STOPS_METRIC, len(stopped))
    for attempt in range(1, hold_tries + 1):
        try:
            await registry.set_hold("budget", seconds_until_month_turns(now))
            if stopped:
                await registry.remember_fleet_stopped("stopping", STOPPING_CACHE_SECONDS)
            break
        except QueueUnavailable as exc:
            log.error(
                "budget hold not recorded yet", extra={"attempt": attempt, "error": exc.message}
            )
            if attempt == hold_tries:
                raise
            await asyncio.sleep(hold_pause_seconds * attempt)
    return stopped


async def lift_budget_hold(registry: NodeRegistry) -> bool:
    """The owner's `tlfif budget resume`: True if a budget hold was lifted. A manual hold
    (POST /stop) is not the budget's to lift and stays."""
    if await registry.hold() != "budget":
        return False
    await registry.clear_hold()
    log.warning("budget hold lifted by the owner")
    return True


class AlertLedger:
    """The SNS messages acted on, so a redelivered alert (SNS delivers at least once)
    does not set again a hold the owner has lifted since."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def seen(self, message_id: str) -> bool:
        with queue_errors():
            return bool(await self.redis.exists(keys.budget_alert(message_id)))

    async def remember(self, message_id: str, ttl_seconds: int) -> None:
        """Called only once the alert was acted on, so a failed run is retried in full."""
        with queue_errors():
            await self.redis.set(keys.budget_alert(message_id), "1", ex=ttl_seconds)
