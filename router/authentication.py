"""Who is calling: the two ways the router learns a caller's verified claims.

`BearerToken` verifies the Authorization header itself against the pool's JWKS (uvicorn,
the local stack). `GatewayClaims` takes the claims API Gateway's JWT authorizer verified,
from the Lambda event Mangum puts in scope["aws.event"]: only the Lambda adapter sets that
key, so nothing a client sends over HTTP can pass for verified claims. RouterSettings'
trust_gateway_claims picks one (`authenticator_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from tlfif.claims import Claims, check_claims
from tlfif.errors import ConfigError, TokenInvalid
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


def _authorizer_claims(event: Any) -> dict[str, Any] | None:
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    except (KeyError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def authenticator_for(settings: RouterSettings, verifier: Verifier | None) -> Authenticator:
    if settings.trust_gateway_claims:
        return GatewayClaims(settings.cognito_issuer, frozenset(settings.client_ids))
    if verifier is None:
        raise ConfigError("a token verifier is needed unless TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS")
    return BearerToken(verifier)
