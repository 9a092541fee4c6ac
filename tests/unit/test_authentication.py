"""router/authentication.py: which claims the router trusts, chosen by one setting."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from router.authentication import (
    BearerToken,
    GatewayClaims,
    KeyOrToken,
    api_key_of,
    authenticator_for,
)
from router.key_path import MARK
from router.wiring import deps_from_env
from tests.doubles.cloud import MetricsDouble
from tests.doubles.lambda_events import gateway_claims, http_api_event
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tlfif.claims import Claims
from tlfif.errors import ConfigError, TokenInvalid
from tlfif.settings import RouterSettings

pytestmark = pytest.mark.anyio


def request(headers: dict[str, str] | None = None, event: Any = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/status",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    if event is not None:
        scope["aws.event"] = event
    return Request(scope)


class VerifierDouble:
    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def verify(self, authorization: str | None) -> Claims:
        self.seen.append(authorization)
        return Claims(sub=sub_of("alice"), client_id="app", token_use="access", iat=0, exp=3600)


@pytest.fixture
def issuer() -> TokenIssuerDouble:
    return TokenIssuerDouble()


def gateway(issuer: TokenIssuerDouble) -> GatewayClaims:
    return GatewayClaims(issuer.issuer, frozenset([issuer.client_id]))


async def test_gateway_claims_come_from_the_events_authorizer(issuer: TokenIssuerDouble) -> None:
    event = http_api_event("GET", "/status", claims=gateway_claims(issuer, "bob"))
    claims = await gateway(issuer).authenticate(request(event=event))
    assert claims.sub == sub_of("bob") and claims.token_use == "access"
    assert claims.exp == int(event["requestContext"]["authorizer"]["jwt"]["claims"]["exp"])


@pytest.mark.parametrize(
    "event",
    [
        None,  # under uvicorn: no Lambda event at all
        {"requestContext": {}},  # a route without the authorizer
        {"requestContext": {"authorizer": {"lambda": {"sub": "bob"}}}},
        {"requestContext": {"authorizer": {"jwt": {"claims": "sub=bob"}}}},
    ],
)
async def test_no_authorizer_claims_is_a_401_whatever_the_headers_say(
    issuer: TokenIssuerDouble, event: Any
) -> None:
    forged = {"Authorization": f"Bearer {issuer.access_token()}", "X-Claims": '{"sub":"bob"}'}
    with pytest.raises(TokenInvalid):
        await gateway(issuer).authenticate(request(forged, event))


async def test_gateway_claims_missing_a_sub_are_refused(issuer: TokenIssuerDouble) -> None:
    claims = gateway_claims(issuer)
    del claims["sub"]
    event = http_api_event("GET", "/status", claims=claims)
    with pytest.raises(TokenInvalid, match="sub"):
        await gateway(issuer).authenticate(request(event=event))


async def test_a_bearer_token_goes_to_the_verifier() -> None:
    verifier = VerifierDouble()
    claims = await BearerToken(verifier).authenticate(request({"Authorization": "Bearer t"}))
    assert claims.sub == sub_of("alice") and verifier.seen == ["Bearer t"]


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer tlfif-sk-abc", "tlfif-sk-abc"),
        ("bearer  tlfif-sk-abc ", "tlfif-sk-abc"),
        ("Bearer eyJhbGciOi.x.y", None),  # a JWT goes to the token authenticator
        ("Basic tlfif-sk-abc", None),
        (None, None),
    ],
)
def test_an_api_key_is_told_by_its_prefix(header: str | None, key: str | None) -> None:
    assert api_key_of(header) == key


async def test_without_a_key_ring_a_key_is_refused_and_a_token_still_passes() -> None:
    verifier = VerifierDouble()
    both = KeyOrToken(BearerToken(verifier), None)
    with pytest.raises(TokenInvalid, match="no API keys"):
        await both.authenticate(request({"Authorization": "Bearer tlfif-sk-abc"}))
    assert verifier.seen == []  # a key never reaches the token verifier
    claims = await both.authenticate(request({"Authorization": "Bearer t"}))
    assert claims.sub == sub_of("alice")


async def test_a_token_under_the_key_prefix_is_refused() -> None:
    verifier = VerifierDouble()
    keyed = request({"Authorization": "Bearer t"})
    keyed.scope[MARK] = True  # as router/key_path.py marks it
    with pytest.raises(TokenInvalid, match="take an API key"):
        await KeyOrToken(BearerToken(verifier), None).authenticate(keyed)
    assert verifier.seen == []


def test_the_setting_picks_the_authenticator(issuer: TokenIssuerDouble) -> None:
    verifier = VerifierDouble()
    plain = RouterSettings(cognito_issuer=issuer.issuer, client_ids=[issuer.client_id])
    chosen = authenticator_for(plain, verifier)
    # API keys are taken in front of either (ADR 0027); tokens go to the one picked.
    assert isinstance(chosen, KeyOrToken) and isinstance(chosen.tokens, BearerToken)
    trusting = plain.model_copy(update={"trust_gateway_claims": True})
    assert authenticator_for(trusting, verifier) == KeyOrToken(gateway(issuer), None)


def test_uvicorn_refuses_to_start_trusting_gateway_claims(
    issuer: TokenIssuerDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.asgi import create_app_from_env

    monkeypatch.setenv("TLFIF_ROUTER_COGNITO_ISSUER", issuer.issuer)
    monkeypatch.setenv("TLFIF_ROUTER_CLIENT_IDS", issuer.client_id)
    monkeypatch.setenv("TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS", "true")
    with pytest.raises(ConfigError, match="TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS"):
        create_app_from_env()


def test_the_lambda_wiring_needs_the_pool_and_clients_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TLFIF_ROUTER_COGNITO_ISSUER", "TLFIF_ROUTER_CLIENT_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS", "true")
    with pytest.raises(ConfigError, match="TLFIF_ROUTER_CLIENT_IDS"):
        deps_from_env(MetricsDouble())
