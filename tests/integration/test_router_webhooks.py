"""A request's webhook at the router (ADR 0031): checked before anything is queued, its
record kept before the job is, on POST /infer (the `webhook` field) and on /v1 (the
X-Tlfif-Webhook header). Real redis-server; the host names resolve through a table."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tlfif.keys import PENDING
from tlfif.settings import CommonSettings
from tlfif.webhook_targets import IpAddress

pytestmark = pytest.mark.anyio

DNS = {
    "hooks.example.com": ["93.184.215.14"],
    "inside.example.com": ["10.1.2.3"],
    # One public and one private answer: any private one refuses the host.
    "mixed.example.com": ["93.184.215.14", "192.168.1.9"],
    "v6.example.com": ["2606:4700::6810:84e5"],
    "ula.example.com": ["fd00:ec2::254"],
    "loop.example.com": ["127.0.0.1"],
}


def table_resolver(host: str, port: int) -> list[IpAddress]:
    return [ipaddress.ip_address(address) for address in DNS.get(host, [])]


@pytest.fixture
async def router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> AsyncIterator[RouterHarness]:
    settings = router_settings(token_issuer, v1_wait_seconds=0.2)
    async with router_on(
        redis_server, token_issuer, webhook_resolve=table_resolver, settings=settings
    ) as harness:
        yield harness


async def test_a_webhook_is_kept_with_the_job_and_the_user_gets_a_secret(
    router: RouterHarness,
) -> None:
    answer = await router.infer({"prompt": "hi", "webhook": "https://hooks.example.com/tlfif?x=1"})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    record = router.webhook_records.records[(sub_of("alice"), job_id)]
    assert record.url == "https://hooks.example.com/tlfif?x=1"
    # The sender signs with the user's secret: made now if they had none.
    profile = await router.webhook_secrets.get_profile(sub_of("alice"))
    assert profile is not None and profile.secret.startswith("whsec_")
    shown = await router.client.get("/webhook-secret", headers=router.auth())
    assert shown.json()["secret"] == profile.secret


@pytest.mark.parametrize(
    ("webhook", "why"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://inside.example.com/x", "private"),
        ("https://mixed.example.com/x", "private"),
        ("https://ula.example.com/x", "private"),
        ("https://loop.example.com/x", "private"),
        ("https://169.254.169.254/latest/meta-data/", "private"),
        ("https://[::1]:8443/x", "private"),
        ("https://nowhere.example.com/x", "does not resolve"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://" + "a" * 2050, "2048"),
    ],
)
async def test_a_webhook_that_may_not_be_called_is_refused_and_nothing_is_queued(
    router: RouterHarness, webhook: str, why: str
) -> None:
    answer = await router.infer({"prompt": "hi", "webhook": webhook})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["field"] == "webhook"
    assert why in error["message"]
    # No address the host resolved to is named back: it may be an internal one.
    for addresses in DNS.values():
        assert not any(address in error["message"] for address in addresses)
    assert await router.redis.llen(PENDING) == 0
    assert router.webhook_records.records == {}


async def test_a_public_ipv6_receiver_is_accepted(router: RouterHarness) -> None:
    answer = await router.infer({"prompt": "hi", "webhook": "https://v6.example.com/x"})
    assert answer.status_code == 202, answer.text


async def test_v1_names_its_webhook_in_a_header(router: RouterHarness) -> None:
    body = {
        "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        "messages": [{"role": "user", "content": "hi"}],
    }
    refused = await router.client.post(
        "/v1/chat/completions",
        json=body,
        headers=router.auth() | {"X-Tlfif-Webhook": "https://inside.example.com/x"},
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == "X-Tlfif-Webhook"
    assert await router.redis.llen(PENDING) == 0
    kept = await router.client.post(
        "/v1/chat/completions",
        json=body,
        headers=router.auth() | {"X-Tlfif-Webhook": "https://hooks.example.com/v1"},
    )
    # The node is stopped: the held request ends in a 503, its job queued with its webhook.
    assert kept.status_code == 503, kept.text
    [(sub, _job_id)] = router.webhook_records.records
    assert sub == sub_of("alice")


async def test_the_local_setting_lets_loopback_receivers_through(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    common = CommonSettings(webhook_allow_loopback=True)
    async with router_on(
        redis_server, token_issuer, webhook_resolve=table_resolver, common=common
    ) as router:
        looped = await router.infer({"prompt": "hi", "webhook": "https://loop.example.com/x"})
        assert looped.status_code == 202, looped.text
        inside = await router.infer({"prompt": "hi", "webhook": "https://inside.example.com/x"})
        assert inside.status_code == 400, inside.text


async def test_a_retried_request_keeps_the_first_tries_webhook(router: RouterHarness) -> None:
    body = {"prompt": "hi", "webhook": "https://hooks.example.com/once"}
    first = await router.infer(body, headers={"Idempotency-Key": "k1"})
    again = await router.infer(body, headers={"Idempotency-Key": "k1"})
    assert first.json()["id"] == again.json()["id"]
    assert (sub_of("alice"), first.json()["id"]) in router.webhook_records.records
