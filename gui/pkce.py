"""PKCE (RFC 7636) for Cognito's hosted UI: the verifier, its S256 challenge, and the
/oauth2/authorize URL the browser opens.

Cognito supports only the S256 method; the verifier is 43-128 characters of the
unreserved set, the challenge base64url(SHA-256(verifier)) without padding.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

# The scopes the desktop app client allows (infra/modules/identity: openid, email).
SCOPES = ("openid", "email")


@dataclass(frozen=True)
class PkcePair:
    verifier: str
    challenge: str


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_pkce() -> PkcePair:
    # 64 random bytes -> 86 base64url characters, all in RFC 7636's unreserved set.
    verifier = secrets.token_urlsafe(64)
    return PkcePair(verifier=verifier, challenge=challenge_of(verifier))


def callback_url(port: int) -> str:
    """Exactly the app client's callback URL: Cognito compares it character by character."""
    return f"http://localhost:{port}/callback"


def authorize_url(
    hosted_ui: str, *, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": " ".join(SCOPES),
            "code_challenge_method": "S256",
            "code_challenge": challenge,
        }
    )
    return f"{hosted_ui.rstrip('/')}/oauth2/authorize?{query}"
