"""Webhooks (ADR 0031): the per-user secret and setting, the record a request leaves, the
body a receiver gets, and how that body is signed.

A receiver checks `X-Tlfif-Signature` with `verify_signature`: HMAC-SHA256 under the user's
secret over `<X-Tlfif-Timestamp>.<body>`, hex, prefixed `v1=` (Stripe's and Svix's scheme:
the timestamp is signed too, so an old delivery replayed later is refused by its age).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tlfif.contracts import MAX_WEBHOOK_URL_CHARS, ReplyStatus, Usage

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
# Header names, as a receiver reads them.
SIGNATURE_HEADER = "X-Tlfif-Signature"
TIMESTAMP_HEADER = "X-Tlfif-Timestamp"
DELIVERY_HEADER = "X-Tlfif-Delivery"  # the job id: deliveries are at least once
EVENT_HEADER = "X-Tlfif-Event"
# A receiver refuses a delivery signed longer ago than this (or this far in the future).
DEFAULT_TOLERANCE_SECONDS = 300
# /v1 requests name their webhook in this header (their bodies are OpenAI's).
WEBHOOK_REQUEST_HEADER = "x-tlfif-webhook"
WEBHOOK_HEADER_FIELD = "X-Tlfif-Webhook"  # how a 400 names it


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


class WebhookProfile(BaseModel):
    """A user's webhook secret and setting: webhook-secrets/<sub>.json, SSE-KMS (ADR 0031)."""

    model_config = ConfigDict(extra="forbid")

    secret: str
    # Send the reply's text in the body too; off unless the user turns it on.
    include_text: bool = False
    rotated_ms: int


class WebhookSettingsRequest(BaseModel):
    """Body of PUT /webhook-settings."""

    model_config = ConfigDict(extra="forbid")

    include_text: bool


class WebhookSettingsView(BaseModel):
    """The profile without its secret (PUT /webhook-settings' answer)."""

    include_text: bool
    rotated_ms: int


class WebhookRecord(BaseModel):
    """What a request with a webhook leaves in S3, webhooks/<sub>/<id>.json, before its
    job is queued: whoever writes the reply, the sender finds the URL there."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(max_length=MAX_WEBHOOK_URL_CHARS)]
    created_ms: int


class WebhookBody(BaseModel):
    """What a receiver gets: the reply's facts, never its text unless the user's setting
    says so."""

    type: Literal["reply"] = "reply"
    id: str
    status: ReplyStatus
    reply_key: str
    finish_reason: str | None = None
    error_code: str | None = None
    usage: Usage
    queued_ms: int | None = None
    latency_ms: int | None = None
    finished_ms: int
    sent_ms: int
    attempt: int
    text: str | None = None


class ReplyNotice(BaseModel):
    """What the replies topic (SNS) gets for every reply: who asked, and how it ended."""

    id: str
    submitter: str
    status: ReplyStatus
    reply_key: str
    finished_ms: int


def webhook_record_key(sub: str, job_id: str) -> str:
    return f"webhooks/{sub}/{job_id}.json"


def webhook_secret_key(sub: str) -> str:
    return f"webhook-secrets/{sub}.json"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Tlfif-Signature value for `body` sent at `timestamp` (Unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether a delivery is genuine: the signature matches (compared in constant time) and
    it was signed within `tolerance_seconds` of now."""
    # isdigit alone passes "²", which int() refuses; compare_digest raises on a non-ASCII
    # str: a header carrying either is simply not genuine.
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
