"""Month-to-date spend: read from AWS at a bounded price, converted to EUR, kept in Redis.

AWS Budgets' DescribeBudget (no per-call charge) serves first. Cost Explorer bills $0.01
per request and refreshes only a few times a day, so it is asked only where Budgets cannot
answer, and at most once per `explorer_min_interval_hours` whatever the schedule: the seed's
15-minute schedule on Cost Explorer alone would cost ~$29/month, more than the budget.

EUR = round(USD x rate, 2), the rate in EUR per USD (a setting or an SSM parameter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel

from tlfif import keys
from tlfif.contracts import SpendOrigin, now_ms
from tlfif.errors import SpendUnavailable
from tlfif.ports import SpendSource
from tlfif.redis_conn import RedisClient, queue_errors

log = logging.getLogger(__name__)


def to_eur(usd: float, usd_to_eur: float) -> float:
    """12.34 USD at 0.92 EUR per USD: round(12.34 x 0.92, 2) = round(11.3528, 2) = 11.35 EUR."""
    return round(usd * usd_to_eur, 2)


def month_of(ms: int) -> str:
    """The UTC calendar month of a timestamp, as AWS bills it: "2025-11"."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m")


def month_start_ms(ms: int) -> int:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


class BilledSpend(BaseModel):
    """What AWS had billed this month when it was read; stored under {tlfif}:cost."""

    usd: float
    eur: float
    usd_to_eur: float
    source: SpendOrigin
    month: str
    as_of_ms: int
    # Carried with the figure, so GET /cost needs no cost setting of its own.
    node_hourly_usd: float


class CostStore:
    """The billed figure in Redis, and the slot that rations Cost Explorer calls."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def billed(self) -> BilledSpend | None:
        with queue_errors():
            body = await self.redis.get(keys.COST)
        return BilledSpend.model_validate_json(body) if body else None

    async def save(self, figure: BilledSpend) -> None:
        # No TTL: a figure of an earlier month is recognised by its month, and an old
        # figure with its age says more than none.
        with queue_errors():
            await self.redis.set(keys.COST, figure.model_dump_json())

    async def take_explorer_slot(self, interval_seconds: int) -> bool:
        """True at most once per interval (SET NX EX), across every publisher. A failed
        call keeps its slot: retrying a broken call each run is what would cost money."""
        with queue_errors():
            taken = await self.redis.set(
                keys.COST_EXPLORER_SLOT, str(now_ms()), nx=True, ex=interval_seconds
            )
        return bool(taken)


class CostPublisher:
    """Reads the spend (Budgets first, then Cost Explorer when due), stores it in EUR."""

    def __init__(
        self,
        store: CostStore,
        budgets: SpendSource | None,
        explorer: SpendSource,
        usd_to_eur: Callable[[], float],
        *,
        explorer_interval_seconds: int,
        node_hourly_usd: float,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.budgets = budgets
        self.explorer = explorer
        self.usd_to_eur = usd_to_eur
        self.explorer_interval_seconds = explorer_interval_seconds
        self.node_hourly_usd = node_hourly_usd
        self.clock = clock

    async def publish(self) -> BilledSpend | None:
        """The new figure, stored; None when no source may be asked now (nothing changes).

        Raises SpendUnavailable (or ConfigError for the rate): an error is never a 0.
        """
        # The rate first: a bad rate must not cost a Cost Explorer request.
        rate = await asyncio.to_thread(self.usd_to_eur)
        spent = await self._read_usd()
        if spent is None:
            return None
        usd, source = spent
        now = self.clock()
        figure = BilledSpend(
            usd=round(usd, 4),
            eur=to_eur(usd, rate),
            usd_to_eur=rate,
            source=source,
            month=month_of(now),
            as_of_ms=now,
            node_hourly_usd=self.node_hourly_usd,
        )
        await self.store.save(figure)
        log.info("spend published", extra={"eur": figure.eur, "usd": usd, "source": source})
        return figure

    async def _read_usd(self) -> tuple[float, SpendOrigin] | None:
        if self.budgets is not None:
            try:
                return await asyncio.to_thread(self.budgets.month_to_date_usd), "budgets"
            except SpendUnavailable as exc:
                log.warning("AWS Budgets gave no spend", extra={"reason": exc.message})
        if not await self.store.take_explorer_slot(self.explorer_interval_seconds):
            log.info(
                "Cost Explorer not due yet; nothing published",
                extra={"intervalSeconds": self.explorer_interval_seconds},
            )
            return None
        return await asyncio.to_thread(self.explorer.month_to_date_usd), "cost_explorer"
