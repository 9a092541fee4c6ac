"""API keys on Lambda behind API Gateway (ADR 0027): the owner manages keys through the
JWT routes (the authorizer's claims), and a key comes in on ANY /api-key/{proxy+}, a route
without the authorizer, where the router verifies it itself; a token sent there is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from router.deps import RouterDeps
from router.lambda_app import LambdaRouter
from tests.doubles.api_key_store_double import ApiKeyStoreDouble
from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.lambda_context import LambdaContextDouble
from tests.doubles.lambda_events import gateway_claims, http_api_event
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import router_settings
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings

KEY_ROUTE = "ANY /api-key/{proxy+}"


@pytest.fixture
def issuer() -> TokenIssuerDouble:
    return TokenIssuerDouble()


@pytest.fixture
def gateway_router(redis_server: RedisServer, issuer: TokenIssuerDouble) -> Iterator[LambdaRouter]:
    deps = RouterDeps(
        settings=router_settings(issuer, trust_gateway_claims=True),
        common=CommonSettings(),
        metrics=MetricsDouble(),
        replies=ReplyStoreDouble(),
        node_control=NodeControlDouble,
        redis=lambda: connect(redis_server.url),
        blocking_redis=lambda: connect(redis_server.url, blocking_seconds=25),
        api_keys=ApiKeyStoreDouble(),
    )
    router = LambdaRouter(deps)
    yield router
    router.close()


def on_key_route(event: dict[str, Any]) -> dict[str, Any]:
    event["routeKey"] = event["requestContext"]["routeKey"] = KEY_ROUTE
    return event


def test_a_key_comes_in_on_the_route_without_the_authorizer(
    gateway_router: LambdaRouter, issuer: TokenIssuerDouble
) -> None:
    owner = gateway_claims(issuer, "alice")
    made = http_api_event("POST", "/keys", body={"name": "ci"}, claims=owner)
    created = gateway_router(made, LambdaContextDouble())
    assert created["statusCode"] == 201, created
    bearer = {"Authorization": f"Bearer {json.loads(created['body'])['secret']}"}

    prompt = on_key_route(
        http_api_event("POST", "/api-key/infer", body={"prompt": "hi"}, headers=bearer)
    )
    queued = gateway_router(prompt, LambdaContextDouble())
    assert queued["statusCode"] == 202, queued
    status = gateway_router(
        on_key_route(http_api_event("GET", "/api-key/status", headers=bearer)),
        LambdaContextDouble(),
    )
    assert json.loads(status["body"])["pending"] == [json.loads(queued["body"])["id"]]

    # A token there was verified by nobody: refused, whatever it claims.
    token = {"Authorization": f"Bearer {issuer.access_token('alice')}"}
    unverified = on_key_route(http_api_event("GET", "/api-key/status", headers=token))
    refused = gateway_router(unverified, LambdaContextDouble())
    assert refused["statusCode"] == 401
    assert "API key" in json.loads(refused["body"])["error"]["message"]
    assert sub_of("alice") not in refused["body"]
