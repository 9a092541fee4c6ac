"""tlfif/aws/webhook_secrets.py against moto's S3: a profile per user under webhook-secrets/,
encrypted with SSE-KMS (the AWS-managed key), read back async and sync, changed by
conditional writes that a racing writer cannot undo, and failures as WebhookStoreError."""

from __future__ import annotations

import boto3
import pytest

from tests.fixtures.moto_server import REGION
from tlfif.aws.webhook_secrets import UPDATE_ATTEMPTS, S3WebhookSecrets
from tlfif.errors import WebhookStoreError
from tlfif.webhook_contracts import WebhookProfile, new_secret, webhook_secret_key

pytestmark = pytest.mark.anyio
SUB = "86bf2021-a197-5d3a-ac5e-d054b2c4f17e"


def a_profile(include_text: bool = False, rotated_ms: int = 1_000) -> WebhookProfile:
    return WebhookProfile(secret=new_secret(), include_text=include_text, rotated_ms=rotated_ms)


async def test_a_profile_round_trips_encrypted_with_the_managed_key(replies_bucket: str) -> None:
    store = S3WebhookSecrets(replies_bucket, REGION)
    assert await store.get_profile(SUB) is None
    assert store.read_profile(SUB) is None  # the sender's sync read
    profile = a_profile(include_text=True)
    await store.put_profile(SUB, profile)
    assert await store.get_profile(SUB) == profile
    assert store.read_profile(SUB) == profile
    stored = boto3.client("s3", region_name=REGION).get_object(
        Bucket=replies_bucket, Key=f"webhook-secrets/{SUB}.json"
    )
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert "SSEKMSKeyId" not in stored  # no key of our own: aws/s3, no monthly fee
    assert stored["ContentType"] == "application/json"


async def test_an_update_writes_only_a_change_and_returns_what_is_stored(
    replies_bucket: str,
) -> None:
    store = S3WebhookSecrets(replies_bucket, REGION)
    made = await store.update_profile(SUB, lambda found: found or a_profile())
    again = await store.update_profile(SUB, lambda found: found or a_profile())
    assert again == made  # the first read made it; the second found it
    turned_on = await store.update_profile(
        SUB, lambda found: (found or a_profile()).model_copy(update={"include_text": True})
    )
    assert turned_on.secret == made.secret and turned_on.include_text
    assert await store.get_profile(SUB) == turned_on


async def test_a_racing_write_is_read_again_never_overwritten(replies_bucket: str) -> None:
    """A settings change whose write would land after a rotate re-reads, so the rotated
    secret stands (an overwrite would silently bring the old secret back)."""
    store = S3WebhookSecrets(replies_bucket, REGION)
    await store.put_profile(SUB, a_profile())
    rotated = a_profile(rotated_ms=2_000)
    seen: list[str] = []

    def turn_text_on(found: WebhookProfile | None) -> WebhookProfile:
        assert found is not None
        seen.append(found.secret)
        if len(seen) == 1:  # a rotate lands between this change's read and its write
            boto3.client("s3", region_name=REGION).put_object(
                Bucket=replies_bucket,
                Key=webhook_secret_key(SUB),
                Body=rotated.model_dump_json().encode(),
            )
        return found.model_copy(update={"include_text": True})

    result = await store.update_profile(SUB, turn_text_on)
    assert seen[1] == rotated.secret and len(seen) == 2
    assert result == rotated.model_copy(update={"include_text": True})
    assert await store.get_profile(SUB) == result


async def test_a_first_profile_made_twice_at_once_keeps_the_first(replies_bucket: str) -> None:
    store = S3WebhookSecrets(replies_bucket, REGION)
    first = a_profile()

    def make(found: WebhookProfile | None) -> WebhookProfile:
        if found is None:  # another first call wins the write meanwhile
            boto3.client("s3", region_name=REGION).put_object(
                Bucket=replies_bucket,
                Key=webhook_secret_key(SUB),
                Body=first.model_dump_json().encode(),
            )
            return a_profile()
        return found

    assert await store.update_profile(SUB, make) == first


async def test_endless_races_end_as_a_store_error(replies_bucket: str) -> None:
    store = S3WebhookSecrets(replies_bucket, REGION)
    await store.put_profile(SUB, a_profile())
    tries = 0

    def always_raced(found: WebhookProfile | None) -> WebhookProfile:
        nonlocal tries
        tries += 1
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=replies_bucket, Key=webhook_secret_key(SUB), Body=a_profile().model_dump_json()
        )
        return a_profile(include_text=True)

    with pytest.raises(WebhookStoreError, match="races"):
        await store.update_profile(SUB, always_raced)
    assert tries == UPDATE_ATTEMPTS


async def test_failures_are_store_errors_that_name_nothing_to_callers(aws: str) -> None:
    store = S3WebhookSecrets("no-such-bucket-here", REGION)

    def fresh(found: WebhookProfile | None) -> WebhookProfile:
        return a_profile()

    for call in (
        store.get_profile(SUB),
        store.put_profile(SUB, a_profile()),
        store.update_profile(SUB, fresh),
    ):
        with pytest.raises(WebhookStoreError) as failed:
            await call
        assert failed.value.caller_message == "webhook secret store unavailable"
        assert "NoSuchBucket" in failed.value.message  # the detail is for the logs


async def test_an_object_that_is_no_profile_is_a_store_error_without_its_body(
    replies_bucket: str,
) -> None:
    leaked = "whsec_" + "x" * 43
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=replies_bucket, Key=webhook_secret_key(SUB), Body=f'{{"secret": "{leaked}"}}'
    )
    with pytest.raises(WebhookStoreError, match="not a valid webhook profile") as failed:
        S3WebhookSecrets(replies_bucket, REGION).read_profile(SUB)
    assert leaked not in failed.value.message
