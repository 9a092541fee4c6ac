"""Per-user rate limits and the pending cap through the router, on a real redis-server.

The router runs with the real default limits (write: 5 a second, 20 a minute; read: 10 a
second, 300 a minute) and a fake clock, so minutes of polling replay in a moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.doubles.wall_clock import WallClockDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tlfif.settings import RouterSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> WallClockDouble:
    return WallClockDouble()


@pytest.fixture
async def limited(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, clock: WallClockDouble
) -> AsyncIterator[RouterHarness]:
    """The router with the production defaults for every limit."""
    settings = RouterSettings(
        cognito_issuer=token_issuer.issuer,
        jwks_url=token_issuer.jwks_url,
        client_ids=[token_issuer.client_id],
    )
    async with router_on(redis_server, token_issuer, settings=settings, clock=clock) as router:
        yield router


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "throttled" and error["message"] and error["field"] is None


async def test_six_rapid_prompts_the_sixth_is_429_with_retry_after(limited: RouterHarness) -> None:
    answers = [await limited.infer({"prompt": f"p{i}"}) for i in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    sixth = answers[5]
    assert_throttled(sixth)
    assert sixth.headers["retry-after"] == "1"
    assert sixth.headers["x-request-id"]
    assert await limited.queue.depth() == 5  # the refused prompt was not queued
    assert limited.metrics.counts["RateLimitBreaches"] == 1


async def test_the_21st_write_within_a_minute_is_429(
    limited: RouterHarness, clock: WallClockDouble
) -> None:
    start = clock.now
    for second in range(20):  # one a second, infer and stop mixed: they share the limit
        clock.now = start + second
        if second % 4 == 3:
            response = await limited.client.post("/stop", headers=limited.auth())
            assert response.status_code == 200
        else:
            assert (await limited.infer({"prompt": f"p{second}"})).status_code == 202
    clock.now = start + 30
    refused = await limited.infer({"prompt": "one too many"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"  # the first write leaves the window at +60
    clock.now = start + 60
    assert (await limited.infer({"prompt": "again"})).status_code == 202


async def test_a_90_second_cold_start_polled_every_second_is_never_throttled(
    limited: RouterHarness, clock: WallClockDouble
) -> None:
    """The CLI's pattern while the node boots: a result poll and a status poll each second."""
    accepted = await limited.infer({"prompt": "wake up"})
    assert accepted.status_code == 202 and accepted.json()["status"] == "starting"
    job_id = accepted.json()["id"]
    auth = limited.auth()  # one token, as a client holds it (signing one costs ~0.1 s here)
    start = clock.now
    for second in range(1, 91):
        clock.now = start + second
        result = await limited.client.get(f"/result/{job_id}", headers=auth)
        status = await limited.client.get("/status", headers=auth)
        assert (result.status_code, status.status_code) == (202, 200), f"at {second} s"
    assert "RateLimitBreaches" not in limited.metrics.counts


async def test_reads_have_their_own_limit(limited: RouterHarness) -> None:
    for i in range(5):
        await limited.infer({"prompt": f"p{i}"})
    assert (await limited.infer({"prompt": "over"})).status_code == 429
    auth = limited.auth()
    statuses = [(await limited.client.get("/status", headers=auth)).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


async def test_concurrent_clients_each_get_their_own_burst(limited: RouterHarness) -> None:
    users = ["alice", "bob", "carol", "dave"]
    auth = {user: limited.auth(user) for user in users}
    attempts = [
        limited.client.post("/infer", json={"prompt": "hi"}, headers=auth[user])
        for user in users
        for _ in range(8)
    ]
    answers = await asyncio.gather(*attempts)
    for i, user in enumerate(users):
        mine = [a.status_code for a in answers[i * 8 : (i + 1) * 8]]
        assert sorted(mine) == [202] * 5 + [429] * 3, user


async def test_requests_without_a_valid_token_are_limited_by_source_address(
    limited: RouterHarness,
) -> None:
    bad = {"Authorization": "Bearer not-a-jwt"}
    answers = [
        await limited.client.post("/infer", json={"prompt": "x"}, headers=bad) for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    # A signed-in user behind the same address is counted by sub, apart from it.
    assert (await limited.infer({"prompt": "mine"})).status_code == 202


async def test_more_pending_jobs_than_the_cap_is_429(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    settings = router_settings(token_issuer, user_pending_cap=3)
    async with router_on(redis_server, token_issuer, settings=settings) as router:
        codes = [(await router.infer({"prompt": f"p{i}"})).status_code for i in range(4)]
        assert codes == [202, 202, 202, 429]
        refused = await router.infer({"prompt": "still too many"})
        assert_throttled(refused)
        assert "pending" in refused.json()["error"]["message"]
        assert router.metrics.counts["RateLimitBreaches"] == 2
        # Another user is not held back by alice's backlog.
        assert (await router.infer({"prompt": "bob's"}, sub="bob")).status_code == 202


async def test_the_pending_cap_defaults_to_20(router: RouterHarness) -> None:
    assert router.app.state.services.queue.user_pending_cap == 20
