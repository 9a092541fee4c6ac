"""The webhook secret routes through the router on a real redis-server (ADR 0031): each
signed-in user's own profile, made on the first read, rotated with its setting kept, the
setting changed alone; never with an API key; bad bodies named; a store that fails or is
missing a 503 that names nothing; and the S3 adapter (moto) behind the same routes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.doubles.webhook_secrets_double import WebhookSecretsDouble
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tests.security.test_leaks import SECRET_BUCKET, assert_clean
from tlfif.aws.webhook_secrets import S3WebhookSecrets
from tlfif.webhook_contracts import WebhookProfile, sign, verify_signature

pytestmark = pytest.mark.anyio


async def secret_of(router: RouterHarness, sub: str = "alice") -> dict[str, Any]:
    shown = await router.client.get("/webhook-secret", headers=router.auth(sub))
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


async def test_the_first_read_makes_a_profile_and_the_next_ones_show_it(
    router: RouterHarness,
) -> None:
    first = await secret_of(router)
    WebhookProfile.model_validate(first)
    assert first["secret"].startswith("whsec_") and first["include_text"] is False
    assert await secret_of(router) == first
    assert isinstance(router.webhook_secrets, WebhookSecretsDouble)
    assert router.webhook_secrets.writes == 1  # a read that finds one writes nothing
    # The shown secret is the one a receiver checks deliveries with.
    body = b'{"type":"reply"}'
    assert verify_signature(
        first["secret"], "1700000000", body, sign(first["secret"], 1700000000, body), now=1700000000
    )


async def test_each_user_sees_their_own_secret_only(router: RouterHarness) -> None:
    alice, bob = await secret_of(router), await secret_of(router, "bob")
    assert alice["secret"] != bob["secret"]
    assert isinstance(router.webhook_secrets, WebhookSecretsDouble)
    assert set(router.webhook_secrets.profiles) == {sub_of("alice"), sub_of("bob")}


async def test_rotate_makes_a_new_secret_and_keeps_the_setting(router: RouterHarness) -> None:
    old = await secret_of(router)
    turned = await router.client.put(
        "/webhook-settings", json={"include_text": True}, headers=router.auth()
    )
    assert turned.status_code == 200
    assert turned.json() == {"include_text": True, "rotated_ms": old["rotated_ms"]}
    rotated = await router.client.post("/webhook-secret/rotate", headers=router.auth())
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["secret"] != old["secret"] and new["include_text"] is True
    assert new["rotated_ms"] >= old["rotated_ms"]
    assert await secret_of(router) == new


async def test_settings_or_a_rotate_before_any_read_make_the_profile(
    router: RouterHarness,
) -> None:
    off = await router.client.put(
        "/webhook-settings", json={"include_text": False}, headers=router.auth()
    )
    assert off.status_code == 200 and off.json()["include_text"] is False
    assert (await secret_of(router))["rotated_ms"] == off.json()["rotated_ms"]
    rotated = await router.client.post("/webhook-secret/rotate", headers=router.auth("bob"))
    assert rotated.status_code == 200 and rotated.json()["include_text"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "include_text"),
        ({"include_text": "yes"}, "include_text"),
        ({"include_text": 1}, "include_text"),
        ({"include_text": True, "secret": "whsec_mine"}, "secret"),
        ([True], "body"),
    ],
)
async def test_a_bad_settings_body_is_a_400_naming_the_field(
    router: RouterHarness, body: Any, field: str
) -> None:
    refused = await router.client.put("/webhook-settings", json=body, headers=router.auth())
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == field
    assert isinstance(router.webhook_secrets, WebhookSecretsDouble)
    assert router.webhook_secrets.profiles == {}


async def test_an_api_key_may_not_read_or_change_the_secret(router: RouterHarness) -> None:
    created = await router.client.post("/keys", json={"name": "ci"}, headers=router.auth())
    key = {"Authorization": f"Bearer {created.json()['secret']}"}
    for method, path, body in (
        ("GET", "/webhook-secret", None),
        ("POST", "/webhook-secret/rotate", None),
        ("PUT", "/webhook-settings", {"include_text": True}),
    ):
        for prefix in ("", "/api-key"):
            refused = await router.client.request(method, prefix + path, json=body, headers=key)
            assert refused.status_code == 403, (method, prefix + path)
            error = refused.json()["error"]
            assert error == {
                "code": "forbidden",
                "message": "a key cannot read or change webhook secrets",
                "field": None,
            }
    assert isinstance(router.webhook_secrets, WebhookSecretsDouble)
    assert router.webhook_secrets.profiles == {}


async def test_no_token_is_a_401(router: RouterHarness) -> None:
    for method, path in (
        ("GET", "/webhook-secret"),
        ("POST", "/webhook-secret/rotate"),
        ("PUT", "/webhook-settings"),
    ):
        refused = await router.client.request(method, path)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"


async def test_a_failing_or_missing_store_is_a_503_naming_nothing(router: RouterHarness) -> None:
    assert isinstance(router.webhook_secrets, WebhookSecretsDouble)
    router.webhook_secrets.failing = True
    failed = await router.client.get("/webhook-secret", headers=router.auth())
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "5"
    assert failed.json()["error"] == {
        "code": "webhook_store_unavailable",
        "message": "webhook secret store unavailable",
        "field": None,
    }
    services = router.app.state.services
    router.app.state.services = dataclasses.replace(services, webhook_secrets=None)
    missing = await router.client.post("/webhook-secret/rotate", headers=router.auth())
    assert missing.status_code == 503
    assert missing.json()["error"]["message"] == "webhook secret store unavailable"
    router.app.state.services = services


async def test_reads_and_writes_count_against_their_own_limits(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    tight = router_settings(token_issuer, throttle_read_per_second=1, throttle_write_per_second=1)
    # A clock that stands still: every request falls in the same second.
    async with router_on(redis_server, token_issuer, settings=tight, clock=lambda: 1e9) as router:
        assert (
            await router.client.get("/webhook-secret", headers=router.auth())
        ).status_code == 200
        rotate = await router.client.post("/webhook-secret/rotate", headers=router.auth())
        assert rotate.status_code == 200  # a write: the read did not use it up
        again = await router.client.get("/webhook-secret", headers=router.auth())
        assert again.status_code == 429 and "Retry-After" in again.headers
        put = await router.client.put(
            "/webhook-settings", json={"include_text": True}, headers=router.auth()
        )
        assert put.status_code == 429  # PUT is a write, like the rotate before it


async def test_the_routes_on_the_s3_adapter(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, replies_bucket: str
) -> None:
    store = S3WebhookSecrets(replies_bucket, REGION)
    async with router_on(redis_server, token_issuer, webhook_secrets=store) as router:
        shown = await secret_of(router)
        rotated = (await router.client.post("/webhook-secret/rotate", headers=router.auth())).json()
        assert rotated["secret"] != shown["secret"]
        await router.client.put(
            "/webhook-settings", json={"include_text": True}, headers=router.auth()
        )
    # What the sender reads, synchronously, outside any event loop.
    found = store.read_profile(sub_of("alice"))
    assert found is not None and found.secret == rotated["secret"] and found.include_text


async def test_s3_failing_names_no_bucket_key_or_exception(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, aws: str
) -> None:
    store = S3WebhookSecrets(SECRET_BUCKET, REGION)  # no such bucket in moto
    async with router_on(redis_server, token_issuer, webhook_secrets=store) as router:
        answers = [
            await router.client.get("/webhook-secret", headers=router.auth()),
            await router.client.post("/webhook-secret/rotate", headers=router.auth()),
            await router.client.put(
                "/webhook-settings", json={"include_text": True}, headers=router.auth()
            ),
        ]
    for answer in answers:
        assert answer.status_code == 503
        assert_clean(answer)
        assert "webhook-secrets/" not in answer.text and sub_of("alice") not in answer.text
