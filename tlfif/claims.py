"""The caller's claims, and the rules every Cognito access token's claims must meet.

Apart from tlfif/auth.py (which verifies signatures with python-jose and fetches the JWKS
with httpx) so that the Lambda router, which takes claims API Gateway verified already,
imports neither: together they cost ~150 ms of a cold start.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tlfif.errors import TokenInvalid

# A Cognito user's sub is a UUID; it names Redis keys and S3 prefixes (replies/<sub>/...),
# so nothing else may pass for one ("../../x", a colon that joins two keys).
SUB_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# How far a token's iat may lie ahead of this clock (the issuer's clock may run ahead).
MAX_CLOCK_SKEW_SECONDS = 300
# Cognito access tokens live 5 minutes to a day; a longer one was not made by our pool.
MAX_LIFETIME_SECONDS = 86400


def _group_list(value: Any) -> Any:
    """cognito:groups as a list: a JWT carries a JSON array, API Gateway's authorizer hands
    the same claim on as one string, "[owner other]"."""
    if isinstance(value, str):
        return [group for group in re.split(r"[\s,]+", value.strip("[]")) if group]
    return value


class Claims(BaseModel):
    """What the router needs of a verified Cognito access token."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    sub: Annotated[str, Field(pattern=SUB_PATTERN)]
    client_id: str
    username: str | None = None
    token_use: Literal["access"]
    scope: str | None = None
    exp: int
    iat: int
    groups: Annotated[tuple[str, ...], BeforeValidator(_group_list)] = Field(
        default=(), alias="cognito:groups"
    )


def check_claims(
    payload: dict[str, Any],
    issuer: str,
    client_ids: frozenset[str],
    *,
    now: float | None = None,
) -> Claims:
    """The claims of a token whose signature and expiry were checked already (by
    TokenVerifier, or by API Gateway's JWT authorizer), if they name this pool, an access
    token and an accepted client, and its sub and times are sane. Raises TokenInvalid."""
    if payload.get("iss") != issuer:
        raise TokenInvalid("token was issued by another issuer")
    token_use = payload.get("token_use")
    if token_use != "access":
        # An ID token is signed by the same keys but is meant for the client, not an API.
        raise TokenInvalid(f"token_use is {token_use!r}; an access token is required")
    client_id = payload.get("client_id")
    if not isinstance(client_id, str):
        raise TokenInvalid("token client_id is not a string")
    if client_id not in client_ids:
        raise TokenInvalid("token was issued to an app client this service does not accept")
    try:
        claims = Claims.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]) for err in exc.errors() if err["loc"])
        if fields == "sub":
            raise TokenInvalid("token sub is not a Cognito user id") from None
        raise TokenInvalid(f"token claims are missing or malformed: {fields}") from None
    _check_times(claims, time.time() if now is None else now)
    return claims


def _check_times(claims: Claims, now: float) -> None:
    if claims.iat > now + MAX_CLOCK_SKEW_SECONDS:
        raise TokenInvalid("token was issued in the future")
    if claims.exp - claims.iat > MAX_LIFETIME_SECONDS:
        raise TokenInvalid("token lives longer than a day; Cognito issues none such")


def is_owner(claims: Claims, owner_group: str, owner_subs: frozenset[str]) -> bool:
    """The deployment's owner: a member of the owner group (Cognito's cognito:groups claim),
    or a sub the settings name (ADR 0021). Everyone else signed in is a plain user."""
    return claims.sub in owner_subs or (bool(owner_group) and owner_group in claims.groups)
