"""The router as a Lambda function (router/lambda_app.py): HTTP API payload v2 events in,
Lambda proxy responses out, a real redis-server behind, cloud ports doubled.

Claims come either from the gateway's JWT authorizer (trust_gateway_claims) or from the
router's own verification of the bearer token; the events are shaped as AWS sends them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from router.deps import RouterDeps
from router.lambda_app import LambdaRouter
from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.lambda_context import LambdaContextDouble
from tests.doubles.lambda_events import SOURCE_IP, gateway_claims, http_api_event
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.redis_servers import PASSWORD, RedisServer
from tests.fixtures.router_app import router_settings
from tlfif import keys
from tlfif.auth import TokenVerifier
from tlfif.contracts import Job
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings


@dataclass
class LambdaHarness:
    router: LambdaRouter
    issuer: TokenIssuerDouble
    metrics: MetricsDouble
    redis: redis.Redis

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.router(event, LambdaContextDouble())

    def claims(self, sub: str = "alice", **overrides: str) -> dict[str, str]:
        return gateway_claims(self.issuer, sub, **overrides)

    def bearer(self, sub: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.access_token(sub)}"}


@pytest.fixture
def lambda_router(redis_server: RedisServer) -> Iterator[Any]:
    """Builds LambdaRouters on the test's Redis; each gets its own token issuer."""
    built: list[LambdaRouter] = []
    test_redis = redis.Redis(port=redis_server.port, password=PASSWORD, decode_responses=True)

    def build(**settings: Any) -> LambdaHarness:
        issuer, metrics, node = TokenIssuerDouble(), MetricsDouble(), NodeControlDouble()
        deps = RouterDeps(
            settings=router_settings(issuer, **settings),
            common=CommonSettings(),
            verifier=TokenVerifier(
                issuer.issuer, issuer.jwks_url, [issuer.client_id], http=issuer.http_client()
            ),
            metrics=metrics,
            replies=ReplyStoreDouble(),
            node_control=lambda: node,
            redis=lambda: connect(redis_server.url),
            blocking_redis=lambda: connect(redis_server.url, blocking_seconds=25),
        )
        built.append(LambdaRouter(deps))
        return LambdaHarness(built[-1], issuer, metrics, test_redis)

    yield build
    for router in built:
        router.close()
    test_redis.close()


def body_of(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


# --- where the claims come from ------------------------------------------------------------


def test_behind_the_authorizer_the_gateways_claims_are_used_and_no_jwks_fetched(
    lambda_router: Any,
) -> None:
    app = lambda_router(trust_gateway_claims=True)
    event = http_api_event("POST", "/infer", body={"prompt": "hello"}, claims=app.claims("alice"))
    response = app.invoke(event)
    assert response["statusCode"] == 202, response
    job_id = body_of(response)["id"]
    job = Job.model_validate_json(app.redis.get(keys.job(job_id)) or "")
    assert job.sub == sub_of("alice")
    assert app.issuer.fetches == 0


def test_without_trusting_the_gateway_the_router_verifies_the_token_itself(
    lambda_router: Any,
) -> None:
    app = lambda_router()
    event = http_api_event("POST", "/infer", body={"prompt": "hi"}, headers=app.bearer("bob"))
    assert app.invoke(event)["statusCode"] == 202
    assert app.issuer.fetches == 1
    forged = http_api_event("GET", "/status", headers={"Authorization": "Bearer forged"})
    refused = app.invoke(forged)
    assert refused["statusCode"] == 401
    assert refused["headers"]["www-authenticate"] == "Bearer"


def test_claims_in_an_event_count_for_nothing_unless_the_gateway_is_trusted(
    lambda_router: Any,
) -> None:
    app = lambda_router()
    response = app.invoke(http_api_event("GET", "/status", claims=app.claims()))
    assert response["statusCode"] == 401


def test_trusting_the_gateway_a_request_without_its_claims_is_refused(lambda_router: Any) -> None:
    """A route left without the authorizer fails closed, even with a valid token."""
    app = lambda_router(trust_gateway_claims=True)
    response = app.invoke(http_api_event("GET", "/status", headers=app.bearer()))
    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "unauthorized"
    assert app.issuer.fetches == 0


@pytest.mark.parametrize(
    "overrides",
    [{"token_use": "id"}, {"client_id": "someone-elses-app"}, {"iss": "https://evil.example"}],
)
def test_gateway_claims_must_be_an_access_token_of_this_pool_and_client(
    lambda_router: Any, overrides: dict[str, str]
) -> None:
    app = lambda_router(trust_gateway_claims=True)
    response = app.invoke(http_api_event("GET", "/status", claims=app.claims(**overrides)))
    assert response["statusCode"] == 401


# --- one Redis client for the life of the execution environment ----------------------------


def test_warm_invocations_reuse_one_redis_client(lambda_router: Any) -> None:
    app = lambda_router(trust_gateway_claims=True)
    services = app.router.app.state.services
    assert app.invoke(http_api_event("GET", "/status", claims=app.claims()))["statusCode"] == 200
    connections = app.redis.info("stats")["total_connections_received"]
    for _ in range(5):
        response = app.invoke(http_api_event("GET", "/status", claims=app.claims()))
        assert response["statusCode"] == 200
    assert app.redis.info("stats")["total_connections_received"] == connections
    assert app.router.app.state.services is services


def test_a_loop_change_between_invocations_does_not_strand_the_client(
    lambda_router: Any,
) -> None:
    app = lambda_router(trust_gateway_claims=True)
    assert app.invoke(http_api_event("GET", "/status", claims=app.claims()))["statusCode"] == 200
    asyncio.set_event_loop(None)  # as an anyio test in the same process leaves it
    assert app.invoke(http_api_event("GET", "/status", claims=app.claims()))["statusCode"] == 200


# --- what the event carries ---------------------------------------------------------------


def test_the_access_log_has_the_gateways_source_ip_request_id_and_the_sub(
    lambda_router: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="router.access")
    app = lambda_router(trust_gateway_claims=True)
    secret = "my secret prompt"
    event = http_api_event(
        "POST",
        "/infer",
        body={"prompt": secret},
        claims=app.claims("alice"),
        # A client's forged X-Forwarded-For must not become the logged address.
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    response = app.invoke(event)
    [line] = [r.__dict__ for r in caplog.records if r.name == "router.access"]
    assert line["ip"] == SOURCE_IP
    assert line["requestId"] == event["requestContext"]["requestId"]
    assert response["headers"]["x-request-id"] == line["requestId"]
    assert (line["route"], line["status"], line["sub"]) == ("/infer", 202, sub_of("alice"))
    assert not any(
        secret in record.getMessage() or secret in str(record.__dict__) for record in caplog.records
    )


def test_query_strings_and_base64_bodies_arrive_intact(lambda_router: Any) -> None:
    app = lambda_router(trust_gateway_claims=True)
    event = http_api_event(
        "POST", "/infer", body={"prompt": "grüße"}, claims=app.claims(), base64_body=True
    )
    job_id = body_of(app.invoke(event))["id"]
    job = Job.model_validate_json(app.redis.get(keys.job(job_id)) or "")
    assert job.messages[0].content == "grüße"
    poll = app.invoke(
        http_api_event("GET", f"/result/{job_id}", query="wait=0", claims=app.claims())
    )
    assert poll["statusCode"] == 202 and body_of(poll)["id"] == job_id
    bad = app.invoke(
        http_api_event("GET", f"/result/{job_id}", query="wait=99", claims=app.claims())
    )
    assert bad["statusCode"] == 400 and body_of(bad)["error"]["field"] == "wait"


def test_a_preflight_needs_no_claims(lambda_router: Any) -> None:
    app = lambda_router(trust_gateway_claims=True)
    headers = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    response = app.invoke(http_api_event("OPTIONS", "/infer", headers=headers))
    assert response["statusCode"] == 204
    assert response["headers"]["access-control-allow-origin"] == "http://localhost:5173"


def test_the_chat_page_is_served_as_text_with_its_headers_and_no_claims(
    lambda_router: Any,
) -> None:
    app = lambda_router(trust_gateway_claims=True)  # its routes have no authorizer
    page = app.invoke(http_api_event("GET", "/"))
    script = app.invoke(http_api_event("GET", "/static/chat.js"))
    for response, media_type in ((page, "text/html"), (script, "text/javascript")):
        assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
        assert response["headers"]["content-type"] == f"{media_type}; charset=utf-8"
        assert "frame-ancestors 'none'" in response["headers"]["content-security-policy"]
    assert '<script src="static/chat.js" defer></script>' in page["body"]


def test_failed_authentication_is_throttled_by_the_gateways_source_ip(lambda_router: Any) -> None:
    # Per minute, not per second: the test must not depend on this machine's speed.
    app = lambda_router(
        trust_gateway_claims=True, throttle_read_per_second=0, throttle_read_per_minute=2
    )
    codes = [app.invoke(http_api_event("GET", "/status"))["statusCode"] for _ in range(3)]
    assert codes == [401, 401, 429]
    elsewhere = http_api_event("GET", "/status", source_ip="198.51.100.1")
    assert app.invoke(elsewhere)["statusCode"] == 401
    assert app.metrics.counts["RateLimitBreaches"] == 1
