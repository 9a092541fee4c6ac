"""Who is calling: the ways the router learns a caller's verified claims.

`BearerToken` verifies the Authorization header itself against the pool's JWKS (uvicorn,
the local stack). `GatewayClaims` takes the claims API Gateway's JWT authorizer verified,
from the Lambda event Mangum puts in scope["aws.event"]: only the Lambda adapter sets that
key, so nothing a client sends over HTTP can pass for verified claims. RouterSettings'
trust_gateway_claims picks one (`authenticator_for`). In front of either, `KeyOrToken`
takes a bearer that is an API key (`tlfif-sk-...`) to the key ring instead (ADR 0027): on
AWS such a request comes through the /api-key/ routes, which have no JWT authorizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from router.key_path import on_key_path
from tlfif.api_key_contracts import SECRET_PREFIX
from tlfif.claims import Claims, check_claims
from tlfif.errors import ConfigError, TokenInvalid
from tlfif.key_ring import KeyRing
from tlfif.settings import RouterSettings


class Authenticator(Protocol):
    """The request's verified claims; raises TokenInvalid (a 401) on any failure."""

    async def authenticate(self, request: Request) -> Claims: ...


class Verifier(Protocol):
    """Turns an Authorization header into the caller's claims (tlfif.auth.TokenVerifier)."""

    async def verify(self, authorization: str | None) -> Claims: ...


@dataclass(frozen=True)
class BearerToken:
    verifier: Verifier

    async def authenticate(self, request: Request) -> Claims:
        return await self.verifier.verify(request.headers.get("authorization"))


@dataclass(frozen=True)
class GatewayClaims:
    """Claims from requestContext.authorizer.jwt.claims of an HTTP API (payload v2) event.

    The gateway checked signature, expiry, issuer and audience; what it does not check is
    token_use (it takes an ID token of the same client too), so the claims pass the same
    rules as a token the router verifies itself. No claims is a 401, never a fallback to
    the header: a route left without the authorizer must fail closed.
    """

    issuer: str
    client_ids: frozenset[str]

    async def authenticate(self, request: Request) -> Claims:
        claims = _authorizer_claims(request.scope.get("aws.event"))
        if claims is None:
            raise TokenInvalid("the request carries no claims from the gateway's JWT authorizer")
        # The gateway hands every claim over as a string ("exp": "1716..."); Claims coerces.
        return check_claims(claims, self.issuer, self.client_ids)


@dataclass(frozen=True)
class KeyOrToken:
    """An API key goes to the key ring (no key ring: every key is a 401); anything else to
    the token authenticator. A key is told by its prefix, so a JWT never reaches the ring."""

    tokens: Authenticator
    key_ring: KeyRing | None

    async def authenticate(self, request: Request) -> Claims:
        secret = api_key_of(request.headers.get("authorization"))
        if secret is None:
            if on_key_path(request.scope):
                # On AWS no authorizer ran on this path: a token here would be unverified.
                raise TokenInvalid("the /api-key/ routes take an API key, not a token")
            return await self.tokens.authenticate(request)
        if self.key_ring is None:
            raise TokenInvalid("this deployment takes no API keys")
        return await self.key_ring.claims_for(secret)


def api_key_of(authorization: str | None) -> str | None:
    """The API key an Authorization header carries as its bearer, else None."""
    scheme, _, credential = (authorization or "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential.startswith(SECRET_PREFIX):
        return None
    return credential


def _authorizer_claims(event: Any) -> dict[str, Any] | None:
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    except (KeyError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def authenticator_for(
    settings: RouterSettings, verifier: Verifier | None, key_ring: KeyRing | None = None
) -> Authenticator:
    tokens: Authenticator
    if settings.trust_gateway_claims:
        tokens = GatewayClaims(settings.cognito_issuer, frozenset(settings.client_ids))
    elif verifier is None:
        raise ConfigError("a token verifier is needed unless TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS")
    else:
        tokens = BearerToken(verifier)
    return KeyOrToken(tokens, key_ring)
