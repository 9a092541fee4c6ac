"""A double of a Cognito user pool's token side: signs tokens, serves its JWKS.

Tokens look like Cognito's (RS256, `kid` header; sub, iss, client_id, token_use, exp), so
the real TokenVerifier checks them; the JWKS is served through an httpx.MockTransport, so
no network is involved.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_RouterTest"
CLIENT_ID = "tlfif-cli"
# In every test alice owns the deployment (her tokens carry the owner group); bob and carol
# are plain users of it.
OWNER = "alice"
OWNER_GROUP = "owner"
_SUBS = uuid.UUID("6d1c9f7e-2b1a-4c55-9e33-7f0a2b6c1d00")


def sub_of(user: str) -> str:
    """The Cognito sub (a UUID) the double gives a user name; a UUID is its own sub."""
    try:
        return str(uuid.UUID(user))
    except ValueError:
        return str(uuid.uuid5(_SUBS, user))


class SigningKeyDouble:
    """An RSA key pair that signs RS256 tokens and publishes its public half as a JWK."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        # Built once: loading the PEM validates the RSA key, ~85 ms a time on these cores.
        self._signer = jwk.construct(self.private_pem, "RS256")

    def public_jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = jwk.construct(self.public_pem, "RS256").to_dict()
        return {**key, "kid": self.kid, "use": "sig"}

    def sign(self, claims: dict[str, Any]) -> str:
        return str(jwt.encode(claims, self._signer, algorithm="RS256", headers={"kid": self.kid}))


class TokenIssuerDouble:
    def __init__(
        self, issuer: str = ISSUER, client_id: str = CLIENT_ID, kid: str = "key-1"
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.kid = kid
        self.fetches = 0  # JWKS requests served
        self.key = SigningKeyDouble(kid)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def access_token(self, user: str = OWNER, *, expires_in: int = 3600, **claims: Any) -> str:
        """An access token of `user` as Cognito issues it (the owner's carries the owner
        group); `claims` override or add any claim."""
        now = int(time.time())
        body: dict[str, Any] = {
            "sub": sub_of(user),
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "iat": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
            "username": user,
        }
        if user == OWNER:
            body["cognito:groups"] = [OWNER_GROUP]
        return self.sign(body | claims)

    def id_token(self, user: str = OWNER) -> str:
        """An ID token: same keys, but meant for the client (aud, token_use=id), not an API."""
        now = int(time.time())
        return self.sign(
            {
                "sub": sub_of(user),
                "iss": self.issuer,
                "aud": self.client_id,
                "token_use": "id",
                "cognito:username": user,
                "auth_time": now,
                "iat": now,
                "exp": now + 3600,
            }
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return str(self.key.sign(claims))

    def transport(self) -> httpx.MockTransport:
        """Serves the JWKS at `jwks_url`, 404 for anything else; counts the fetches."""

        def serve(request: httpx.Request) -> httpx.Response:
            if str(request.url) != self.jwks_url:
                return httpx.Response(404)
            self.fetches += 1
            return httpx.Response(200, json=self.jwks())

        return httpx.MockTransport(serve)

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())
