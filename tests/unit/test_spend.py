"""CostPublisher: Budgets first, Cost Explorer at most once per interval, never a 0 on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import fakeredis
import pytest

from tlfif.errors import ConfigError, SpendUnavailable
from tlfif.spend import CostPublisher, CostStore, month_of, month_start_ms, to_eur

NOV_23 = 1763900000000  # 2025-11-23T12:13:20Z


def test_eur_formula_and_its_worked_example() -> None:
    assert to_eur(12.34, 0.92) == 11.35  # 12.34 x 0.92 = 11.3528
    assert to_eur(0.0, 0.92) == 0.0


def test_month_helpers_are_utc() -> None:
    assert month_of(NOV_23) == "2025-11"
    assert month_start_ms(NOV_23) == 1761955200000  # 2025-11-01T00:00:00Z


@dataclass
class SourceDouble:
    name: str
    usd: float | None = None
    calls: int = 0
    failure: str = "no figure"

    def month_to_date_usd(self) -> float:
        self.calls += 1
        if self.usd is None:
            raise SpendUnavailable(f"{self.name}: {self.failure}")
        return self.usd


@dataclass
class Rate:
    value: float = 0.92
    fail: bool = False
    calls: list[int] = field(default_factory=list)

    def __call__(self) -> float:
        self.calls.append(1)
        if self.fail:
            raise ConfigError("rate parameter missing")
        return self.value


@pytest.fixture
async def store() -> AsyncIterator[CostStore]:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    yield CostStore(redis)
    await redis.aclose()


def publisher(
    store: CostStore, budgets: SourceDouble | None, explorer: SourceDouble, rate: Rate
) -> CostPublisher:
    return CostPublisher(
        store,
        budgets,
        explorer,
        rate,
        explorer_interval_seconds=8 * 3600,
        node_hourly_usd=0.658,
        clock=lambda: NOV_23,
    )


@pytest.mark.anyio
async def test_budgets_serve_and_cost_explorer_is_not_asked(store: CostStore) -> None:
    budgets, explorer = SourceDouble("budgets", 12.34), SourceDouble("cost_explorer", 99.0)
    figure = await publisher(store, budgets, explorer, Rate()).publish()
    assert figure is not None
    assert (figure.usd, figure.eur, figure.source, figure.month) == (
        12.34, 11.35, "budgets", "2025-11",
    )  # fmt: skip
    assert figure.as_of_ms == NOV_23 and figure.node_hourly_usd == 0.658
    assert explorer.calls == 0
    assert await store.billed() == figure


@pytest.mark.anyio
async def test_cost_explorer_where_budgets_cannot_at_most_once_per_interval(
    store: CostStore,
) -> None:
    budgets, explorer = SourceDouble("budgets"), SourceDouble("cost_explorer", 3.0)
    publish = publisher(store, budgets, explorer, Rate()).publish
    first = await publish()
    assert first is not None and first.source == "cost_explorer" and first.eur == 2.76
    for _ in range(5):  # the 15-minute schedule, for over an hour
        assert await publish() is None
    assert explorer.calls == 1
    assert budgets.calls == 6
    assert await store.billed() == first


@pytest.mark.anyio
async def test_no_budget_configured_means_cost_explorer_only(store: CostStore) -> None:
    explorer = SourceDouble("cost_explorer", 1.0)
    assert (await publisher(store, None, explorer, Rate()).publish()) is not None
    assert explorer.calls == 1


@pytest.mark.anyio
async def test_a_failing_cost_explorer_raises_stores_nothing_and_keeps_its_slot(
    store: CostStore,
) -> None:
    explorer = SourceDouble("cost_explorer", failure="AccessDenied")
    publish = publisher(store, SourceDouble("budgets"), explorer, Rate()).publish
    with pytest.raises(SpendUnavailable, match="AccessDenied"):
        await publish()
    assert await store.billed() is None
    # Retrying a broken call every run is what would cost money.
    assert await publish() is None
    assert explorer.calls == 1


@pytest.mark.anyio
async def test_a_bad_rate_fails_before_any_paid_call(store: CostStore) -> None:
    explorer = SourceDouble("cost_explorer", 1.0)
    with pytest.raises(ConfigError):
        await publisher(store, None, explorer, Rate(fail=True)).publish()
    assert explorer.calls == 0
    assert await store.take_explorer_slot(60)  # the slot was not spent either
