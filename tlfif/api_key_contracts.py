"""API keys (ADR 0027): the secret's shape, its hash, the stored record and the bodies of
POST /keys, GET /keys and DELETE /keys/{id}.

A key is `tlfif-sk-` and 32 random bytes (base64url): a prefix secret scanners and people
recognise, and 256 bits no one guesses. Only its SHA-256 is kept: a slow password hash
protects low-entropy secrets from a brute force, and there is none to run against 2^256.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from tlfif.claims import Claims
from tlfif.contracts import invalid_input

SECRET_PREFIX = "tlfif-sk-"
SECRET_BYTES = 32
# base64url of 32 bytes without padding is 43 characters.
_SECRET_RE = re.compile(r"^tlfif-sk-[A-Za-z0-9_-]{43}$")
# Names are chosen by the owner and shown in lists; one line of plain characters.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# What a key's claims name as their client: no Cognito app client id looks like this.
KEY_CLIENT_ID = "tlfif-api-key"


def _key_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            "a key's name is 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit"
        )
    return value


KeyName = Annotated[str, AfterValidator(_key_name)]


def new_secret() -> str:
    raw = secrets.token_bytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def looks_like_key(secret: str) -> bool:
    """The shape of a key: anything else is refused before Redis or the store is asked."""
    return bool(_SECRET_RE.match(secret))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_key_id() -> str:
    return str(uuid.uuid4())


class ApiKey(BaseModel):
    """A key as the store keeps it: its hash, never the secret."""

    model_config = ConfigDict(frozen=True)

    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    id: str
    name: KeyName
    sub: str  # the owner the key acts as
    created_ms: int
    last_used_ms: int | None = None

    def view(self) -> KeyView:
        return KeyView(
            id=self.id,
            name=self.name,
            sub=self.sub,
            created_ms=self.created_ms,
            last_used_ms=self.last_used_ms,
        )


class KeyClaims(Claims):
    """The claims of a request that presented an API key: its owner's sub, no groups.

    Never built from a token's payload (check_claims makes plain Claims), so a JWT cannot
    pass for a key, nor a key for a signed-in owner.
    """

    key_id: str


class KeyRequest(BaseModel):
    """Body of POST /keys."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName


class KeyView(BaseModel):
    """A key as GET /keys lists it."""

    id: str
    name: str
    sub: str
    created_ms: int
    last_used_ms: int | None = None


class KeyCreated(KeyView):
    """201 body of POST /keys: the only time the secret is shown."""

    secret: str


class KeyList(BaseModel):
    """200 body of GET /keys, oldest first."""

    keys: list[KeyView]


class KeyRevoked(KeyView):
    """200 body of DELETE /keys/{id}."""

    status: Literal["revoked"] = "revoked"


def key_request(body: dict[str, object]) -> KeyRequest:
    """POST /keys's body, or InvalidInput (400) naming the field."""
    try:
        return KeyRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None
