"""Verifies Cognito access tokens against the user pool's JWKS (python-jose).

Used where no API Gateway authorizer verified the token already: the router under uvicorn,
the local stack. Every failure is a `TokenInvalid` (HTTP 401); the token itself is never
logged or echoed in a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from jose import jwk, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

from tlfif.claims import Claims, check_claims
from tlfif.errors import TokenInvalid

__all__ = ["Claims", "TokenVerifier"]

log = logging.getLogger(__name__)

# Cognito signs with RS256 only; accepting what the header names would let a forged
# `alg: none` or an HS256 token keyed with the public key through.
ALGORITHM = "RS256"
# An unknown kid triggers one JWKS refetch (Cognito rotates keys), but a stream of forged
# kids must not turn every request into a fetch.
MIN_REFETCH_SECONDS = 5.0
FETCH_TIMEOUT_SECONDS = 3.0


class TokenVerifier:
    """Checks `Authorization: Bearer <access token>` against one Cognito user pool."""

    def __init__(
        self,
        issuer: str,
        jwks_url: str,
        client_ids: list[str],
        cache_seconds: int = 600,
        http: httpx.AsyncClient | None = None,
        *,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
    ) -> None:
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._client_ids = frozenset(client_ids)
        self._cache_seconds = cache_seconds
        self._http = http
        self._min_refetch_seconds = min_refetch_seconds
        self._keys: dict[str, jwk.Key] = {}
        self._fetched_at: float | None = None
        self._last_failure: tuple[float, str] | None = None  # (monotonic time, message)
        self._fetch_lock = asyncio.Lock()

    async def verify(self, authorization: str | None) -> Claims:
        token = _bearer_token(authorization)
        kid = _signing_key_id(token)
        key = await self._key_for(kid)
        payload = _decode(token, key)
        return check_claims(payload, self._issuer, self._client_ids)

    async def _key_for(self, kid: str) -> jwk.Key:
        if self._cache_expired():
            await self._refresh(force=False)
        key = self._keys.get(kid)
        if key is None and self._may_refetch():
            await self._refresh(force=True)
            key = self._keys.get(kid)
        if key is None:
            raise TokenInvalid("token is signed with an unknown key id")
        return key

    def _cache_expired(self) -> bool:
        return (
            self._fetched_at is None or time.monotonic() - self._fetched_at >= self._cache_seconds
        )

    def _may_refetch(self) -> bool:
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at >= self._min_refetch_seconds
        )

    async def _refresh(self, *, force: bool) -> None:
        async with self._fetch_lock:
            # Another request may have refreshed while this one waited for the lock.
            if not (self._may_refetch() if force else self._cache_expired()):
                return
            # While the JWKS is down, fail fast instead of making every request wait for
            # its own fetch to time out.
            if self._last_failure is not None:
                failed_at, message = self._last_failure
                if time.monotonic() - failed_at < self._min_refetch_seconds:
                    raise TokenInvalid(message)
            try:
                self._keys = await self._fetch_keys()
            except TokenInvalid as exc:
                self._last_failure = (time.monotonic(), exc.message)
                raise
            self._last_failure = None
            self._fetched_at = time.monotonic()

    async def _fetch_keys(self) -> dict[str, jwk.Key]:
        try:
            if self._http is not None:
                response = await self._http.get(self._jwks_url, timeout=FETCH_TIMEOUT_SECONDS)
            else:
                # A client per fetch: fetches are rare, and a long-lived client would tie
                # its connections to whichever event loop first used it.
                async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
                    response = await client.get(self._jwks_url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # The error names the JWKS host: the log's, not the caller's.
            log.warning("JWKS fetch failed", extra={"error": repr(exc)})
            raise TokenInvalid("the signing keys (JWKS) are unreachable") from None
        return _rsa_keys(document)


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise TokenInvalid("missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise TokenInvalid("Authorization header must be 'Bearer <token>'")
    return token


def _signing_key_id(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise TokenInvalid("token is garbled: not a JWT") from None
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise TokenInvalid(f"token algorithm {alg!r} is not accepted; only {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("token names no signing key id (kid)")
    return kid


def _decode(token: str, key: jwk.Key) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            # Cognito access tokens carry client_id instead of aud; iss, token_use and
            # client_id are checked afterwards, each with its own message.
            options={"verify_aud": False, "verify_iss": False, "require_exp": True},
        )
    except ExpiredSignatureError:
        raise TokenInvalid("token has expired") from None
    except JWTClaimsError as exc:
        raise TokenInvalid(f"token claims are invalid: {exc}") from None
    except JOSEError:
        raise TokenInvalid("token signature is invalid") from None
    return payload


def _rsa_keys(document: Any) -> dict[str, jwk.Key]:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise TokenInvalid("the JWKS document has no 'keys' list")
    found: dict[str, jwk.Key] = {}
    for entry in keys:
        if isinstance(entry, dict) and entry.get("kty") == "RSA" and entry.get("kid"):
            try:
                found[str(entry["kid"])] = jwk.construct(entry, ALGORITHM)
            except JOSEError:
                continue  # one malformed key must not disable the others
    return found
