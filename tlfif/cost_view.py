"""GET /cost: the billed figure with its age, and a live estimate the GUI's label can tick.

estimate EUR = billed EUR + running hours since the billed figure x node USD/h x EUR/USD.
Everything comes from Redis (the stored figure, the uptime ledger, heartbeats, the cached
EC2 state): no AWS call per request. A figure of an earlier month counts as 0 EUR from the
first of this month, since AWS's monthly bill starts again there.
"""

from __future__ import annotations

from tlfif.contracts import BilledView, CostView, EstimateView, now_ms
from tlfif.nodes import NodeRegistry
from tlfif.redis_conn import RedisClient
from tlfif.spend import BilledSpend, CostStore, month_of, month_start_ms, to_eur
from tlfif.uptime import UptimeLedger, UptimeStore

RUNNING_STATES = ("pending", "running")


def cost_view(
    billed: BilledSpend | None, ledger: UptimeLedger, up_seen_ms: int | None, now: int
) -> CostView:
    """`up_seen_ms`: when a heartbeat or the cached EC2 state last said the node runs
    (None: nothing says it runs now)."""
    if billed is None:
        return CostView(billed=None, estimate=None)
    current = billed.month == month_of(now)
    since = billed.as_of_ms if current else month_start_ms(now)
    running = ledger.running_seconds(since, now, up_now=up_seen_ms is not None)
    base_eur = billed.eur if current else 0.0
    extra_eur = to_eur(running / 3600 * billed.node_hourly_usd, billed.usd_to_eur)
    known_ms = up_seen_ms if up_seen_ms is not None else max(ledger.observed_ms, billed.as_of_ms)
    return CostView(
        billed=BilledView(
            **billed.model_dump(exclude={"node_hourly_usd"}),
            age_seconds=_age(billed.as_of_ms, now),
        ),
        estimate=EstimateView(
            eur=round(base_eur + extra_eur, 2),
            running_seconds=int(running),
            node_hourly_usd=billed.node_hourly_usd,
            as_of_ms=known_ms,
            age_seconds=_age(known_ms, now),
        ),
    )


async def read_cost(redis: RedisClient, registry: NodeRegistry) -> CostView:
    now = now_ms()
    billed = await CostStore(redis).billed()
    ledger = await UptimeStore(redis).load()
    beats = await registry.heartbeats()
    up_seen_ms: int | None = max((beat.ts_ms for beat in beats), default=None)
    if up_seen_ms is None and await registry.cached_ec2_state() in RUNNING_STATES:
        up_seen_ms = now  # the router saw it within its short cache window
    return cost_view(billed, ledger, up_seen_ms, now)


def _age(ms: int, now: int) -> int:
    return max(0, (now - ms) // 1000)
