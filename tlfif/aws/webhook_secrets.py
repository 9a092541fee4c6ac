"""WebhookSecrets on S3 (ADR 0031): webhook-secrets/<sub>.json per user, in the replies
bucket the router already reaches through the VPC's free gateway endpoint.

The sender signs with the secret, so it is kept encrypted, not hashed: SSE-KMS with no key
id is the account's AWS-managed aws/s3 key (no monthly fee; S3 calls KMS itself, so the VPC
needs no KMS endpoint). Every change is a conditional write, If-Match on the ETag it read
(If-None-Match: * for a first profile), so a rotate and a settings change at once cannot
undo each other. boto3 is imported on first use; the async methods run it in a worker
thread, and `read_profile` is the sender Lambda's plain synchronous read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from tlfif.aws.s3 import s3_client
from tlfif.errors import WebhookStoreError
from tlfif.webhook_contracts import WebhookProfile, webhook_secret_key

# A conditional write that lost a race reads and applies again; one person's own changes
# rarely race at all, so a few tries are plenty.
UPDATE_ATTEMPTS = 5
# What S3 answers a conditional PutObject that lost: 412 when the object changed (or, for
# If-None-Match, exists), 409 while another conditional write of it is in flight, 404 for
# If-Match on an object deleted meanwhile.
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


class _LostRace(Exception):
    """A conditional write found the object changed since it was read."""


class S3WebhookSecrets:
    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None

    async def get_profile(self, sub: str) -> WebhookProfile | None:
        return await asyncio.to_thread(self.read_profile, sub)

    async def put_profile(self, sub: str, profile: WebhookProfile) -> None:
        await asyncio.to_thread(self._put, sub, profile, {})

    async def update_profile(
        self, sub: str, change: Callable[[WebhookProfile | None], WebhookProfile]
    ) -> WebhookProfile:
        return await asyncio.to_thread(self._update, sub, change)

    def read_profile(self, sub: str) -> WebhookProfile | None:
        """The user's profile, or None; synchronous, for the sender Lambda."""
        found = self._read(sub)
        return None if found is None else found[0]

    def _update(
        self, sub: str, change: Callable[[WebhookProfile | None], WebhookProfile]
    ) -> WebhookProfile:
        for _ in range(UPDATE_ATTEMPTS):
            found = self._read(sub)
            current, etag = found if found is not None else (None, None)
            wanted = change(current)
            if wanted == current:
                return wanted
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                self._put(sub, wanted, condition)
            except _LostRace:
                continue
            return wanted
        raise WebhookStoreError(
            f"S3 PutObject of {webhook_secret_key(sub)} lost {UPDATE_ATTEMPTS} races in a row"
        )

    def _read(self, sub: str) -> tuple[WebhookProfile, str] | None:
        """The profile and its ETag, or None when there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = webhook_secret_key(sub)
        try:
            response = self._client().get_object(Bucket=self._bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            if _error_code(exc) == "NoSuchKey":
                return None
            raise WebhookStoreError(f"S3 GetObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise WebhookStoreError(f"S3 GetObject of {key} failed: {exc}") from exc
        try:
            return WebhookProfile.model_validate_json(body), str(response["ETag"])
        except ValidationError as exc:
            # The detail stays out: pydantic would quote the input, the secret with it.
            raise WebhookStoreError(f"S3 object {key} is not a valid webhook profile") from exc

    def _put(self, sub: str, profile: WebhookProfile, condition: dict[str, str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = webhook_secret_key(sub)
        try:
            self._client().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=profile.model_dump_json().encode("utf-8"),
                ContentType="application/json",
                # No SSEKMSKeyId: the AWS-managed aws/s3 key.
                ServerSideEncryption="aws:kms",
                **condition,
            )
        except ClientError as exc:
            if condition and _error_code(exc) in _LOST_RACE:
                raise _LostRace from exc
            raise WebhookStoreError(f"S3 PutObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise WebhookStoreError(f"S3 PutObject of {key} failed: {exc}") from exc

    def _client(self) -> Any:
        if self._s3 is None:
            # On a request's path (and the sender's): fail fast, as the API keys do.
            self._s3 = s3_client(self._region, read_timeout=5)
        return self._s3


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
