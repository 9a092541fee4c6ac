"""GET /cost and POST /budget/resume on the real router app and a real redis-server."""

from __future__ import annotations

import pytest

from tests.fixtures.router_app import RouterHarness
from tlfif.contracts import CostView, now_ms
from tlfif.nodes import NodeRegistry
from tlfif.spend import BilledSpend, CostStore, month_of
from tlfif.uptime import UptimeStore

HOUR = 3_600_000


async def publish_figure(router: RouterHarness, as_of_ms: int) -> None:
    await CostStore(router.redis).save(
        BilledSpend(
            usd=12.34,
            eur=11.35,
            usd_to_eur=0.92,
            source="budgets",
            month=month_of(as_of_ms),
            as_of_ms=as_of_ms,
            node_hourly_usd=0.658,
        )
    )


@pytest.mark.anyio
async def test_cost_before_any_figure_is_null(router: RouterHarness) -> None:
    response = await router.client.get("/cost", headers=router.auth())
    assert response.status_code == 200
    assert response.json() == {"billed": None, "estimate": None}


@pytest.mark.anyio
async def test_cost_adds_the_running_time_since_the_figure(router: RouterHarness) -> None:
    now = now_ms()
    if month_of(now - 2 * HOUR) != month_of(now):
        pytest.skip("the month turned within the last two hours")
    await publish_figure(router, now - 2 * HOUR)
    ledger = UptimeStore(router.redis)
    await ledger.observe(True, now - 2 * HOUR)
    await ledger.observe(True, now - HOUR)  # the check saw it running an hour ago...
    await NodeRegistry(router.redis).beat("i-node", "ready", 30)  # ...and it still beats
    response = await router.client.get("/cost", headers=router.auth())
    view = CostView.model_validate(response.json())
    assert view.billed is not None and view.estimate is not None
    assert view.billed.eur == 11.35 and 7199 <= view.billed.age_seconds <= 7300
    # Two hours at 0.658 USD/h and 0.92 EUR/USD: 1.21 EUR on top.
    assert 7190 <= view.estimate.running_seconds <= 7300
    assert view.estimate.eur == pytest.approx(12.56, abs=0.01)
    assert view.estimate.age_seconds <= 5  # the heartbeat is fresh


@pytest.mark.anyio
async def test_the_owner_lifts_the_budget_hold_and_prompts_queue_again(
    router: RouterHarness,
) -> None:
    await NodeRegistry(router.redis).set_hold("budget", 3600)
    refused = await router.infer({"prompt": "hello"})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "budget_reached"
    lifted = await router.client.post("/budget/resume", headers=router.auth())
    assert lifted.status_code == 200 and lifted.json() == {"lifted": True, "hold": None}
    again = await router.client.post("/budget/resume", headers=router.auth())
    assert again.json() == {"lifted": False, "hold": None}
    assert (await router.infer({"prompt": "hello"})).status_code == 202


@pytest.mark.anyio
async def test_resume_leaves_a_manual_hold_and_needs_a_token(router: RouterHarness) -> None:
    await NodeRegistry(router.redis).set_hold("manual")
    kept = await router.client.post("/budget/resume", headers=router.auth())
    assert kept.json() == {"lifted": False, "hold": "manual"}
    assert (await router.client.post("/budget/resume")).status_code == 401
