"""TokenVerifier without a network: tokens signed here, the JWKS served by a MockTransport."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jose import jwt

from tests.doubles.token_issuer import SigningKeyDouble
from tlfif.auth import Claims, TokenVerifier
from tlfif.errors import TokenInvalid

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TEST"
JWKS_URL = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TEST/.well-known/jwks.json"
CLIENT_ID = "client-cli"
USER_SUB = "2f6c1f0e-8c1e-4a4e-9f0b-6a1d2c3b4e5f"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class SigningKey(SigningKeyDouble):
    """Signs Cognito-shaped access claims unless told otherwise."""

    def sign(self, claims: dict[str, Any] | None = None, **overrides: Any) -> str:
        return super().sign((claims or access_claims()) | overrides)


def access_claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": USER_SUB,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": "demo",
        "iat": now,
        "exp": now + 3600,
    }


class JwksEndpointDouble:
    """Serves a JWKS document and counts the fetches; can be switched to failing."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.status = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.fetches += 1
        if self.status != 200:
            return httpx.Response(self.status, text="unavailable")
        return httpx.Response(200, json={"keys": [k.public_jwk() for k in self.keys]})


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("kid-1")


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey("kid-2")


@pytest.fixture
def endpoint(key: SigningKey) -> JwksEndpointDouble:
    return JwksEndpointDouble(key)


@pytest.fixture
async def http(endpoint: JwksEndpointDouble) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint.handle)) as client:
        yield client


def verifier_for(http: httpx.AsyncClient, **options: Any) -> TokenVerifier:
    return TokenVerifier(ISSUER, JWKS_URL, [CLIENT_ID, "client-gui"], http=http, **options)


async def rejected(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(TokenInvalid) as caught:
        await verifier.verify(authorization)
    assert caught.value.status == 401
    return caught.value.message


def unsigned_token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.anyio
async def test_valid_access_token_gives_its_claims(
    http: httpx.AsyncClient, key: SigningKey
) -> None:
    claims = await verifier_for(http).verify(f"Bearer {key.sign()}")
    assert isinstance(claims, Claims)
    assert (claims.sub, claims.client_id, claims.username) == (USER_SUB, CLIENT_ID, "demo")
    assert claims.token_use == "access"
    assert claims.scope == "aws.cognito.signin.user.admin"


@pytest.mark.anyio
@pytest.mark.parametrize("header", [None, "", "   "])
async def test_missing_header_is_rejected(http: httpx.AsyncClient, header: str | None) -> None:
    assert "missing" in await rejected(verifier_for(http), header)


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"])
async def test_header_must_be_bearer_token(http: httpx.AsyncClient, header: str) -> None:
    assert "Bearer <token>" in await rejected(verifier_for(http), header)


@pytest.mark.anyio
async def test_garbled_token_is_rejected(http: httpx.AsyncClient) -> None:
    assert "garbled" in await rejected(verifier_for(http), "Bearer not-a-jwt")


@pytest.mark.anyio
async def test_expired_token_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    token = key.sign(exp=int(time.time()) - 5)
    assert "expired" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_signature_by_another_key_is_rejected(
    http: httpx.AsyncClient, key: SigningKey, other_key: SigningKey
) -> None:
    # Signed by a stranger's key but naming our kid: only the signature check can catch it.
    forged = str(
        jwt.encode(
            access_claims(), other_key.private_pem, algorithm="RS256", headers={"kid": key.kid}
        )
    )
    message = await rejected(verifier_for(http), f"Bearer {forged}")
    assert "signature" in message
    assert forged not in message


@pytest.mark.anyio
async def test_tampered_payload_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    header, _, signature = key.sign().split(".")
    payload = unsigned_token({}, access_claims() | {"sub": "someone-else"}).split(".")[1]
    assert "signature" in await rejected(
        verifier_for(http), f"Bearer {header}.{payload}.{signature}"
    )


@pytest.mark.anyio
async def test_wrong_issuer_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    token = key.sign(iss="https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_OTHER")
    assert "issuer" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_unknown_client_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    token = key.sign(client_id="someone-elses-client")
    assert "app client" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_id_token_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    claims = access_claims() | {"token_use": "id", "aud": CLIENT_ID}
    del claims["client_id"]
    token = str(jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid}))
    assert "token_use is 'id'" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_alg_none_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    token = unsigned_token({"alg": "none", "kid": key.kid, "typ": "JWT"}, access_claims())
    assert "algorithm 'none'" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_hs256_is_rejected(http: httpx.AsyncClient, key: SigningKey) -> None:
    # The classic confusion attack: an HMAC keyed with something the attacker knows, such
    # as the published public key, in the hope the verifier uses it as the HMAC secret.
    token = str(
        jwt.encode(
            access_claims(), key.public_jwk()["n"], algorithm="HS256", headers={"kid": key.kid}
        )
    )
    assert "algorithm 'HS256'" in await rejected(verifier_for(http), f"Bearer {token}")


@pytest.mark.anyio
async def test_jwks_is_cached(
    http: httpx.AsyncClient, key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    verifier = verifier_for(http)
    for _ in range(3):
        await verifier.verify(f"Bearer {key.sign()}")
    assert endpoint.fetches == 1


@pytest.mark.anyio
async def test_expired_cache_is_refetched(
    http: httpx.AsyncClient, key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    verifier = verifier_for(http, cache_seconds=0)
    await verifier.verify(f"Bearer {key.sign()}")
    await verifier.verify(f"Bearer {key.sign()}")
    assert endpoint.fetches == 2


@pytest.mark.anyio
async def test_unknown_kid_refetches_once_then_fails(
    http: httpx.AsyncClient, key: SigningKey, other_key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    verifier = verifier_for(http, min_refetch_seconds=0)
    await verifier.verify(f"Bearer {key.sign()}")
    assert "unknown key id" in await rejected(verifier, f"Bearer {other_key.sign()}")
    assert endpoint.fetches == 2


@pytest.mark.anyio
async def test_unknown_kids_do_not_hammer_the_jwks(
    http: httpx.AsyncClient, other_key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    verifier = verifier_for(http)  # default: at most one refetch every few seconds
    for _ in range(5):
        await rejected(verifier, f"Bearer {other_key.sign()}")
    assert endpoint.fetches == 1


@pytest.mark.anyio
async def test_rotated_key_is_found_by_refetch(
    http: httpx.AsyncClient, key: SigningKey, other_key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    verifier = verifier_for(http, min_refetch_seconds=0)
    await verifier.verify(f"Bearer {key.sign()}")
    endpoint.keys.append(other_key)  # Cognito published a new key
    claims = await verifier.verify(f"Bearer {other_key.sign()}")
    assert claims.sub == USER_SUB
    assert endpoint.fetches == 2


@pytest.mark.anyio
async def test_unreachable_jwks_is_a_token_failure(
    http: httpx.AsyncClient, key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    endpoint.status = 503
    assert "unreachable" in await rejected(verifier_for(http), f"Bearer {key.sign()}")


@pytest.mark.anyio
async def test_unreachable_jwks_is_not_hammered(
    http: httpx.AsyncClient, key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    endpoint.status = 500
    verifier = verifier_for(http)  # default: at most one fetch every few seconds
    for _ in range(3):
        assert "unreachable" in await rejected(verifier, f"Bearer {key.sign()}")
    assert endpoint.fetches == 1


@pytest.mark.anyio
async def test_jwks_outage_is_recovered_from(
    http: httpx.AsyncClient, key: SigningKey, endpoint: JwksEndpointDouble
) -> None:
    endpoint.status = 500
    verifier = verifier_for(http, min_refetch_seconds=0)
    await rejected(verifier, f"Bearer {key.sign()}")
    endpoint.status = 200
    assert (await verifier.verify(f"Bearer {key.sign()}")).sub == USER_SUB
    assert endpoint.fetches == 2
