"""CORS in the router: http://localhost and http://127.0.0.1 on any port, nothing else;
preflights answered without a token."""

from __future__ import annotations

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on
from tlfif.ports import NodeControl

pytestmark = pytest.mark.anyio

ALLOWED = [
    "http://localhost:5173",
    "http://127.0.0.1:8080",
    "http://localhost",
    "http://localhost:1",
]
REFUSED = [
    "https://localhost:5173",  # another scheme is another origin
    "http://localhost.evil.example",
    "http://127.0.0.1.nip.io:8080",
    "http://evil.example",
    "http://192.168.1.10:8080",
    "null",  # a sandboxed iframe or a file:// page
]


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("origin", ALLOWED)
async def test_a_preflight_from_a_local_origin_is_allowed_without_a_token(
    router: RouterHarness, origin: str
) -> None:
    response = await router.client.options("/infer", headers=preflight(origin))
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == origin
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        name.strip() for name in allowed_headers.split(",")
    }
    assert response.headers["vary"] == "Origin"
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("origin", REFUSED)
async def test_a_preflight_from_any_other_origin_is_a_403_without_cors_headers(
    router: RouterHarness, origin: str
) -> None:
    response = await router.client.options("/infer", headers=preflight(origin))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert response.json()["error"]["field"] == "Origin"
    assert not [name for name in response.headers if name.startswith("access-control-")]


async def test_a_preflight_for_a_method_the_api_does_not_take_is_refused(
    router: RouterHarness,
) -> None:
    response = await router.client.options(
        "/infer", headers=preflight("http://localhost:3000", "DELETE")
    )
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "Access-Control-Request-Method"


async def test_responses_to_a_local_origin_carry_cors_headers_errors_included(
    router: RouterHarness,
) -> None:
    origin = {"Origin": "http://127.0.0.1:5500"}
    ok = await router.client.get("/status", headers=router.auth() | origin)
    unauthorized = await router.client.get("/status", headers=origin)
    for response in (ok, unauthorized):
        assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5500"
        exposed = response.headers["access-control-expose-headers"]
        assert "X-Request-Id" in exposed and "Retry-After" in exposed
        assert "Origin" in response.headers["vary"]
    assert (ok.status_code, unauthorized.status_code) == (200, 401)


async def test_responses_to_another_origin_or_none_carry_no_cors_headers(
    router: RouterHarness,
) -> None:
    for headers in ({"Origin": "http://evil.example"}, {}):
        response = await router.client.get("/status", headers=router.auth() | headers)
        assert response.status_code == 200
        assert not [name for name in response.headers if name.startswith("access-control-")]


async def test_an_options_request_that_is_no_preflight_reaches_the_routes(
    router: RouterHarness,
) -> None:
    response = await router.client.options("/infer", headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 405


async def test_the_last_resort_503_still_carries_cors_headers(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    def broken_node_control() -> NodeControl:
        raise RuntimeError("adapter blew up")

    async with router_on(redis_server, token_issuer, node_control=broken_node_control) as router:
        response = await router.client.post(
            "/stop", headers=router.auth() | {"Origin": "http://localhost:5173"}
        )
    assert response.status_code == 503
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
