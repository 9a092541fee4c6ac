"""CognitoHostedUiDouble: Cognito's hosted-UI OAuth 2.0 endpoints, which moto lacks.

GET /oauth2/authorize checks what Cognito checks (response_type=code, the app client,
the callback URL matched exactly, scopes the client allows, PKCE with S256 only), then
plays the user who logs in on the hosted page: 302 to the callback with code and state.
POST /oauth2/token redeems a code once, only with the verifier whose SHA-256 is the
challenge and the same redirect_uri, and refreshes tokens; errors are {"error": "..."}.
It answers a browser's cross-origin call with Access-Control-Allow-Origin, as Cognito does
for a page that redeems its own code. GET /logout sends the browser to the logout_uri, only
one of the client's sign-out URLs. Tokens are unsigned JWT-shaped strings carrying
username, client_id and token_use, or, where `access_token_of` is given, the access token
it makes for the username (a TokenIssuerDouble's, which a real router accepts).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class IssuedCode:
    challenge: str
    redirect_uri: str


@dataclass
class CognitoHostedUiDouble:
    client_id: str
    callback_urls: list[str]
    allowed_scopes: frozenset[str] = frozenset({"openid", "email"})
    username: str = "you@example.com"
    expires_in: int = 3600
    refuse_refresh: bool = False
    # The user cancels on the hosted page: the callback gets error=access_denied.
    deny: bool = False
    access_token_of: Callable[[str], str] | None = None
    logout_urls: list[str] = field(default_factory=list)
    authorize_queries: list[dict[str, str]] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth2/authorize", self._authorize, methods=["GET"]),
                Route("/oauth2/token", self._token, methods=["POST"]),
                Route("/logout", self._logout, methods=["GET"]),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["POST"],
                    allow_headers=["Content-Type"],
                )
            ],
        )

    async def _authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.authorize_queries.append(query)
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("invalid_request: unknown client", status_code=400)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.callback_urls:
            # Cognito compares the callback URL exactly and shows an error page.
            return PlainTextResponse("redirect_mismatch", status_code=400)
        state = query.get("state")
        if query.get("response_type") != "code":
            return self._back(redirect_uri, state, error="unsupported_response_type")
        if not set(query.get("scope", "").split()) <= self.allowed_scopes:
            return self._back(redirect_uri, state, error="invalid_scope")
        challenge = query.get("code_challenge")
        if query.get("code_challenge_method") != "S256" or not challenge:
            return self._back(redirect_uri, state, error="invalid_request")
        if self.deny:
            return self._back(redirect_uri, state, error="access_denied")
        code = secrets.token_urlsafe(16)
        self.codes[code] = IssuedCode(challenge=challenge, redirect_uri=redirect_uri)
        return self._back(redirect_uri, state, code=code)

    async def _logout(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.logouts.append(query)
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("invalid_request: unknown client", status_code=400)
        if query.get("logout_uri") not in self.logout_urls:
            return PlainTextResponse("redirect_mismatch", status_code=400)
        return RedirectResponse(query["logout_uri"], status_code=302)

    async def _token(self, request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return _oauth_error("invalid_request")
        form = dict(parse_qsl((await request.body()).decode("utf-8")))
        self.token_forms.append(form)
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client", status=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._redeem(form)
        if grant == "refresh_token":
            return self._refresh(form)
        return _oauth_error("unsupported_grant_type")

    def _redeem(self, form: dict[str, str]) -> Response:
        issued = self.codes.pop(form.get("code", ""), None)  # a code works once
        if issued is None or form.get("redirect_uri") != issued.redirect_uri:
            return _oauth_error("invalid_grant")
        digest = hashlib.sha256(form.get("code_verifier", "").encode("ascii")).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") != issued.challenge:
            return _oauth_error("invalid_grant")
        refresh_token = f"refresh-{next(self._serial)}"
        self.refresh_tokens.add(refresh_token)
        return JSONResponse({**self._tokens(), "refresh_token": refresh_token})

    def _refresh(self, form: dict[str, str]) -> Response:
        if self.refuse_refresh or form.get("refresh_token") not in self.refresh_tokens:
            return _oauth_error("invalid_grant")
        # Without rotation, a refresh grant returns no new refresh token.
        return JSONResponse(self._tokens())

    def _tokens(self) -> dict[str, Any]:
        serial = next(self._serial)
        claims = {"username": self.username, "client_id": self.client_id, "serial": serial}
        access_token = (
            self.access_token_of(self.username)
            if self.access_token_of
            else _jwt({**claims, "token_use": "access"})
        )
        return {
            "access_token": access_token,
            "id_token": _jwt({**claims, "token_use": "id", "email": self.username}),
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }

    def _back(self, redirect_uri: str, state: str | None, **params: str) -> Response:
        if state is not None:
            params["state"] = state
        return RedirectResponse(f"{redirect_uri}?{urlencode(params)}", status_code=302)


def _oauth_error(error: str, status: int = 400) -> Response:
    return JSONResponse({"error": error}, status_code=status)


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode("utf-8")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    return f"{part({'alg': 'none', 'kid': 'double'})}.{part(claims)}.signature"
