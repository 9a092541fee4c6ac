"""tlfif/webhook_contracts.py: the webhook signature a receiver checks, and the secret's
shape (ADR 0031)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlfif.webhook_contracts import (
    DEFAULT_TOLERANCE_SECONDS,
    SECRET_BYTES,
    SECRET_PREFIX,
    WebhookProfile,
    new_secret,
    sign,
    verify_signature,
    webhook_record_key,
    webhook_secret_key,
)

SECRET = "whsec_" + "k" * 43
BODY = b'{"type": "reply", "id": "0c8e1f52-5d4b-4f7e-9a51-2b1c4d6e8f00", "status": "done"}'
NOW = 1_796_000_000


def signed(body: bytes = BODY, timestamp: int = NOW, secret: str = SECRET) -> str:
    return sign(secret, timestamp, body)


def test_a_signature_verifies_with_its_secret_body_and_timestamp() -> None:
    assert verify_signature(SECRET, str(NOW), BODY, signed(), now=NOW)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    """What a receiver in another language computes from the README's description."""
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signed() == f"v1={expected}"


def test_a_changed_body_fails() -> None:
    assert not verify_signature(SECRET, str(NOW), BODY + b" ", signed(), now=NOW)
    assert not verify_signature(
        SECRET, str(NOW), BODY.replace(b"done", b"error"), signed(), now=NOW
    )


def test_another_secret_fails() -> None:
    assert not verify_signature(new_secret(), str(NOW), BODY, signed(), now=NOW)


def test_a_changed_timestamp_fails_even_inside_the_tolerance() -> None:
    assert not verify_signature(SECRET, str(NOW + 1), BODY, signed(), now=NOW)


@pytest.mark.parametrize(
    "age", [DEFAULT_TOLERANCE_SECONDS + 1, 3600, -(DEFAULT_TOLERANCE_SECONDS + 1)]
)
def test_a_delivery_signed_too_long_ago_or_in_the_future_fails(age: int) -> None:
    timestamp = NOW - age
    signature = signed(timestamp=timestamp)
    assert not verify_signature(SECRET, str(timestamp), BODY, signature, now=NOW)


@pytest.mark.parametrize("age", [0, DEFAULT_TOLERANCE_SECONDS, -DEFAULT_TOLERANCE_SECONDS])
def test_a_delivery_within_the_tolerance_verifies(age: int) -> None:
    timestamp = NOW - age
    assert verify_signature(SECRET, str(timestamp), BODY, signed(timestamp=timestamp), now=NOW)


def test_the_tolerance_is_the_receivers_to_choose() -> None:
    timestamp = NOW - 30
    signature = signed(timestamp=timestamp)
    assert verify_signature(SECRET, str(timestamp), BODY, signature, now=NOW, tolerance_seconds=60)
    assert not verify_signature(
        SECRET, str(timestamp), BODY, signature, now=NOW, tolerance_seconds=10
    )


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1.5e9", "-1796000000", " 1796000000", "0x1", "²", "١٧٩٦٠٠٠٠٠٠"]
)
def test_a_timestamp_that_is_not_whole_seconds_fails(timestamp: str) -> None:
    assert not verify_signature(SECRET, timestamp, BODY, signed(), now=NOW)


@pytest.mark.parametrize(
    "signature",
    ["", "v1=", signed().removeprefix("v1="), "v0=" + signed()[3:], signed().upper(), "v1=é"],
)
def test_a_malformed_signature_fails(signature: str) -> None:
    assert not verify_signature(SECRET, str(NOW), BODY, signature, now=NOW)


@given(timestamp=st.text(max_size=20), signature=st.text(max_size=80))
def test_whatever_the_headers_hold_verify_answers_and_never_raises(
    timestamp: str, signature: str
) -> None:
    """A receiver calls it with headers straight off the wire."""
    assert verify_signature(SECRET, timestamp, BODY, signature, now=NOW) is False


def test_the_current_time_is_used_when_none_is_given() -> None:
    import time

    timestamp = int(time.time())
    assert verify_signature(SECRET, str(timestamp), BODY, signed(timestamp=timestamp))
    assert not verify_signature(SECRET, str(NOW - 10**6), BODY, signed(timestamp=NOW - 10**6))


def test_new_secret_shape() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        encoded = secret.removeprefix(SECRET_PREFIX)
        # token_urlsafe: URL-safe base64 without padding, 32 random bytes.
        assert set(encoded) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        assert len(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))) == SECRET_BYTES


def test_profile_defaults_to_no_text_and_keys_name_the_sub() -> None:
    profile = WebhookProfile(secret=new_secret(), rotated_ms=1)
    assert profile.include_text is False
    assert webhook_secret_key("a-sub") == "webhook-secrets/a-sub.json"
    assert webhook_record_key("a-sub", "job") == "webhooks/a-sub/job.json"
