"""cost_view: the billed figure with its age, plus running time at the node's price."""

from __future__ import annotations

from tlfif.cost_view import cost_view
from tlfif.spend import BilledSpend
from tlfif.uptime import UptimeLedger

NOV_23 = 1763900000000  # 2025-11-23T12:13:20Z
HOUR = 3_600_000


def billed(month: str = "2025-11", as_of: int = NOV_23) -> BilledSpend:
    return BilledSpend(
        usd=12.34, eur=11.35, usd_to_eur=0.92, source="budgets", month=month,
        as_of_ms=as_of, node_hourly_usd=0.658,
    )  # fmt: skip


def test_no_figure_yet() -> None:
    view = cost_view(None, UptimeLedger(), None, NOV_23)
    assert view.billed is None and view.estimate is None


def test_two_hours_running_since_the_figure() -> None:
    ledger = UptimeLedger(sessions=[(NOV_23 - HOUR, NOV_23 + 2 * HOUR)], observed_ms=NOV_23)
    view = cost_view(billed(), ledger, None, NOV_23 + 3 * HOUR)
    assert view.billed is not None and view.estimate is not None
    assert view.billed.eur == 11.35 and view.billed.age_seconds == 3 * 3600
    # 11.35 + 2 h x 0.658 USD/h x 0.92 = 11.35 + 1.21 = 12.56
    assert view.estimate.running_seconds == 2 * 3600
    assert view.estimate.eur == 12.56
    assert view.estimate.age_seconds == 3 * 3600  # nothing newer than the figure is known


def test_a_live_node_counts_up_to_now_and_its_age_is_the_heartbeats() -> None:
    ledger = UptimeLedger(sessions=[(NOV_23, NOV_23 + HOUR)], open=True, observed_ms=NOV_23 + HOUR)
    now = NOV_23 + 2 * HOUR
    view = cost_view(billed(), ledger, now - 4000, now)
    assert view.estimate is not None
    assert view.estimate.running_seconds == 2 * 3600
    assert view.estimate.age_seconds == 4


def test_a_figure_of_last_month_counts_from_the_first() -> None:
    first_of_dec = 1764547200000  # 2025-12-01T00:00:00Z
    ledger = UptimeLedger(sessions=[(first_of_dec - HOUR, first_of_dec + HOUR)])
    view = cost_view(billed(), ledger, None, first_of_dec + 5 * HOUR)
    assert view.billed is not None and view.billed.month == "2025-11"
    assert view.estimate is not None
    assert view.estimate.running_seconds == 3600
    assert view.estimate.eur == 0.61  # 1 h x 0.658 x 0.92, from 0 on the first
