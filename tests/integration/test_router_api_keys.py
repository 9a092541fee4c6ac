"""API keys through the router on a real redis-server (ADR 0027): a key is its owner's sub
on the native routes and /v1 (the same jobs, limits and isolation as the owner's token),
under /api-key/ as without it; a key survives FLUSHALL, its store being S3 (moto)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tlfif.aws.api_keys import S3ApiKeyStore

pytestmark = pytest.mark.anyio


async def make_key(router: RouterHarness, name: str = "laptop") -> dict[str, str]:
    created = await router.client.post("/keys", json={"name": name}, headers=router.auth())
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['secret']}"}


async def test_a_key_is_its_owners_sub_and_no_one_elses(router: RouterHarness) -> None:
    key = await make_key(router)
    queued = await router.client.post("/api-key/infer", json={"prompt": "hi"}, headers=key)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["id"]
    assert await router.queue.pending_for(sub_of("alice")) == [job_id]
    # The owner's token reads the key's job; another user's does not (the unknown id's 404).
    assert (await router.result(job_id)).status_code == 202
    assert (await router.result(job_id, sub="bob")).status_code == 404
    status = await router.client.get("/status", headers=key)
    assert status.json()["pending"] == [job_id]


async def test_a_key_cannot_use_the_owners_controls_but_stop(router: RouterHarness) -> None:
    key = await make_key(router)
    for method, path in (("POST", "/budget/resume"), ("GET", "/keys"), ("POST", "/keys")):
        refused = await router.client.request(method, path, headers=key)
        assert refused.status_code == 403 and "API key" in refused.json()["error"]["message"]
    assert "stop" not in router.node.calls
    # Stopping spends nothing, and a pipeline's `tlfif smoke` times it (ADR 0027's addendum).
    stopped = await router.client.post("/stop", headers=key)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopping"
    assert "stop" in router.node.calls


async def test_a_key_counts_against_its_owners_rate_limit(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    tight = router_settings(token_issuer, throttle_read_per_second=2)
    async with router_on(redis_server, token_issuer, settings=tight) as router:
        key = await make_key(router)
        assert (await router.client.get("/status", headers=key)).status_code == 200
        assert (await router.client.get("/status", headers=router.auth())).status_code == 200
        # The third read of alice's this second, whichever way she sends it.
        throttled = await router.client.get("/api-key/status", headers=key)
        assert throttled.status_code == 429 and "Retry-After" in throttled.headers


async def test_a_revoked_key_is_refused_at_once_everywhere(router: RouterHarness) -> None:
    key = await make_key(router)
    assert (await router.client.get("/v1/models", headers=key)).status_code == 200
    revoked = await router.client.delete("/keys/laptop", headers=router.auth())
    assert revoked.json()["status"] == "revoked"
    native = await router.client.get("/status", headers=key)
    assert native.status_code == 401 and native.headers["WWW-Authenticate"] == "Bearer"
    v1 = await router.client.get("/api-key/v1/models", headers=key)
    assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"


@pytest.fixture
async def s3_router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, replies_bucket: str
) -> AsyncIterator[RouterHarness]:
    store = S3ApiKeyStore(replies_bucket, REGION)
    async with router_on(redis_server, token_issuer, api_keys=store) as router:
        yield router


async def test_a_key_survives_a_redis_flushall(s3_router: RouterHarness) -> None:
    key = await make_key(s3_router)
    assert (await s3_router.client.get("/status", headers=key)).status_code == 200
    await s3_router.redis.flushall()  # the cache, the throttle logs, the queue: all gone
    assert (await s3_router.client.get("/status", headers=key)).status_code == 200
    await s3_router.app.state.services.key_ring.settle()
    (listed,) = (await s3_router.client.get("/keys", headers=s3_router.auth())).json()["keys"]
    assert listed["name"] == "laptop" and listed["last_used_ms"] is not None
