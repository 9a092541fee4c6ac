"""The token, attacked as OWASP's JWT cheat sheet and AWS's Cognito verification steps list
it, through the real router: every case is a 401 with WWW-Authenticate and the JSON error
body (or a 429 once the source address is over its limit), never a 5xx, and the verified
claims' rules (a UUID sub, a string client_id, a sane iat and lifetime) hold."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from jose import jwt

from tests.doubles.token_issuer import SigningKeyDouble, TokenIssuerDouble, sub_of
from tests.fixtures.router_app import RouterHarness

pytestmark = pytest.mark.anyio


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(header)}.{b64(claims)}."


def claims_of(issuer: TokenIssuerDouble, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "sub": sub_of("mallory"),
        "iss": issuer.issuer,
        "client_id": issuer.client_id,
        "token_use": "access",
        "iat": now,
        "exp": now + 3600,
    }
    return body | overrides


def hs256_with_the_public_key(issuer: TokenIssuerDouble) -> str:
    """Algorithm confusion: HMAC keyed with the RSA public key the JWKS publishes (signed by
    hand: python-jose itself refuses to make one)."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': issuer.kid})}.{b64(claims_of(issuer))}"
    mac = hmac.new(issuer.key.public_pem.encode(), signing_input.encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


def jku_to_an_attackers_keys(issuer: TokenIssuerDouble) -> str:
    """A header that names where to fetch keys (jku) and the pool's kid, signed by a key
    of the attacker's: the verifier must take keys from its own JWKS only."""
    attacker = SigningKeyDouble(issuer.kid)
    headers = {"kid": issuer.kid, "jku": "https://evil.example/jwks.json"}
    return str(jwt.encode(claims_of(issuer), attacker.private_pem, "RS256", headers=headers))


def swapped_claims(issuer: TokenIssuerDouble) -> str:
    """Mallory's valid token with alice's sub pasted into its claims."""
    header, _, signature = issuer.access_token("mallory").split(".")
    return ".".join([header, b64(claims_of(issuer, sub=sub_of("alice"))), signature])


Case = Callable[[TokenIssuerDouble], str]
CASES: dict[str, Case] = {
    "alg none": lambda i: unsigned({"alg": "none", "kid": i.kid}, claims_of(i)),
    "alg None, signature stripped": lambda i: ".".join(i.access_token().split(".")[:2]) + ".",
    "HS256 keyed with the public key": hs256_with_the_public_key,
    "signature of another key": lambda i: SigningKeyDouble(i.kid).sign(claims_of(i)),
    "claims swapped under a valid signature": swapped_claims,
    "unknown kid": lambda i: SigningKeyDouble("forged-kid").sign(claims_of(i)),
    "kid injection": lambda i: SigningKeyDouble("../../../dev/null").sign(claims_of(i)),
    "jku pointing elsewhere": jku_to_an_attackers_keys,
    "expired": lambda i: i.access_token("mallory", expires_in=-60),
    "another issuer": lambda i: i.sign(claims_of(i, iss="https://evil.example/pool")),
    "ID token instead of access": lambda i: i.id_token("mallory"),
    "refresh-like opaque string": lambda i: "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.x.y.z.w",
    "another app client": lambda i: i.sign(claims_of(i, client_id="someone-elses-app")),
    "client_id a list": lambda i: i.sign(claims_of(i, client_id=[i.client_id])),
    "token_use missing": lambda i: i.sign(
        {k: v for k, v in claims_of(i).items() if k != "token_use"}
    ),
    "sub missing": lambda i: i.sign({k: v for k, v in claims_of(i).items() if k != "sub"}),
    "sub a path": lambda i: i.sign(claims_of(i, sub="../../x")),
    "sub with a colon": lambda i: i.sign(claims_of(i, sub=f"{sub_of('a')}:b")),
    "sub a number": lambda i: i.sign(claims_of(i, sub=12345)),
    "iat a year ahead": lambda i: i.sign(
        claims_of(i, iat=int(time.time()) + 365 * 86400, exp=int(time.time()) + 366 * 86400)
    ),
    "exp ten years out": lambda i: i.sign(claims_of(i, exp=int(time.time()) + 10 * 365 * 86400)),
    "exp a string": lambda i: i.sign(claims_of(i, exp="tomorrow")),
    "not a JWT": lambda i: "garbage",
    "empty bearer": lambda i: "",
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_forged_or_confused_token_is_a_401(router: RouterHarness, case: str) -> None:
    token = CASES[case](router.issuer)
    for method, path in (("POST", "/infer"), ("GET", "/status"), ("POST", "/stop")):
        response = await router.client.request(
            method,
            path,
            json={"prompt": "hi"} if method == "POST" else None,
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": case},
        )
        assert response.status_code == 401, (case, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"
    # The OpenAI-compatible routes refuse the same tokens, in OpenAI's words.
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    for method, path in (("POST", "/v1/chat/completions"), ("GET", "/v1/models")):
        response = await router.client.request(
            method,
            path,
            json=chat if method == "POST" else None,
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": case},
        )
        assert response.status_code == 401, (case, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert await router.queue.depth() == 0


@pytest.mark.parametrize(
    "header", ["", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "bearer  x", "Token x"]
)
async def test_a_malformed_authorization_header_is_a_401(
    router: RouterHarness, header: str
) -> None:
    response = await router.client.get("/status", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_valid_token_of_a_plain_user_passes(router: RouterHarness) -> None:
    response = await router.client.get("/status", headers=router.auth("mallory"))
    assert response.status_code == 200
