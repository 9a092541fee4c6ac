"""Cognito's OAuth 2.0 token endpoint (/oauth2/token) for the desktop app client.

A public client (no secret): the authorization code is redeemed with the PKCE verifier,
and the refresh token buys new access tokens. Both answer JSON with access_token,
id_token, expires_in (and refresh_token for a code); errors are {"error": "invalid_grant"}.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from tlfif.client.errors import (
    LoginFailed,
    ServiceUnavailable,
    ServiceUnreachable,
    SessionExpired,
)
from tlfif.client.tokens import TokenSet
from tlfif.errors import TlfifError

TIMEOUT_SECONDS = 15.0


class HostedUiTokens:
    def __init__(
        self,
        hosted_ui: str,
        client_id: str,
        redirect_uri: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.token_url = f"{hosted_ui.rstrip('/')}/oauth2/token"
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._transport = transport

    def exchange(self, code: str, verifier: str) -> TokenSet:
        """The tokens for an authorization code from the callback."""
        answer = self._post(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            refused=LoginFailed,
        )
        return self._token_set(answer, refresh_token=None)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """New access token; raises SessionExpired when the refresh token is refused."""
        answer = self._post(
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "refresh_token": tokens.refresh_token,
            },
            refused=SessionExpired,
        )
        return self._token_set(answer, refresh_token=tokens.refresh_token)

    def _post(self, form: dict[str, str], *, refused: type[TlfifError]) -> dict[str, Any]:
        # A client per call: this runs about once an hour, nothing to keep open between.
        try:
            with httpx.Client(transport=self._transport, timeout=TIMEOUT_SECONDS) as http:
                response = http.post(self.token_url, data=form)
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                f"cannot reach Cognito at {self.token_url} ({type(exc).__name__})",
                service="Cognito's hosted UI",
                url=self.token_url,
            ) from None
        if response.status_code >= 500:
            raise ServiceUnavailable(f"Cognito answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            error = (
                body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) else ""
            )
            raise refused(f"Cognito refused the {form['grant_type']} grant ({error})")
        return dict(body)

    def _token_set(self, answer: dict[str, Any], *, refresh_token: str | None) -> TokenSet:
        access_token = str(answer["access_token"])
        return TokenSet(
            username=str(_claims(access_token).get("username", "")),
            client_id=self.client_id,
            access_token=access_token,
            # A refresh grant returns no new refresh token unless rotation is on.
            refresh_token=str(answer.get("refresh_token") or refresh_token or ""),
            expires_at=time.time() + int(answer.get("expires_in", 3600)),
        )


def _claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified: only to name the user; the API verifies the token."""
    try:
        payload = token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}
