"""The caller's claims, and the rules every Cognito access token's claims must meet.

Apart from tlfif/auth.py (which verifies signatures with python-jose and fetches the JWKS
with httpx) so that the Lambda router, which takes claims API Gateway verified already,
imports neither: together they cost ~150 ms of a cold start.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tlfif.errors import TokenInvalid


class Claims(BaseModel):
    """What the router needs of a verified Cognito access token."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str
    client_id: str
    username: str | None = None
    token_use: Literal["access"]
    scope: str | None = None
    exp: int


def check_claims(payload: dict[str, Any], issuer: str, client_ids: frozenset[str]) -> Claims:
    """The claims of a token whose signature and expiry were checked already (by
    TokenVerifier, or by API Gateway's JWT authorizer), if they name this pool, an access
    token and an accepted client. Raises TokenInvalid."""
    if payload.get("iss") != issuer:
        raise TokenInvalid("token was issued by another issuer")
    token_use = payload.get("token_use")
    if token_use != "access":
        # An ID token is signed by the same keys but is meant for the client, not an API.
        raise TokenInvalid(f"token_use is {token_use!r}; an access token is required")
    if payload.get("client_id") not in client_ids:
        raise TokenInvalid("token was issued to an app client this service does not accept")
    try:
        return Claims.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]) for err in exc.errors() if err["loc"])
        raise TokenInvalid(f"token claims are missing or malformed: {fields}") from None
