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

from tlfif.aws.s3 import s3_client
from tlfif.aws.s3_documents import S3Documents
from tlfif.errors import WebhookStoreError
from tlfif.webhook_contracts import WebhookProfile, webhook_secret_key

# A conditional write that lost a race reads and applies again; one person's own changes
# rarely race at all, so a few tries are plenty.
UPDATE_ATTEMPTS = 5


class S3WebhookSecrets:
    def __init__(self, bucket: str, region: str) -> None:
        self._region = region
        self._s3: Any = None
        self._documents = S3Documents(
            self._client, bucket, WebhookProfile, WebhookStoreError, "webhook profile",
            # No SSEKMSKeyId: the AWS-managed aws/s3 key.
            put_args={"ServerSideEncryption": "aws:kms"},
        )  # fmt: skip

    async def get_profile(self, sub: str) -> WebhookProfile | None:
        return await asyncio.to_thread(self.read_profile, sub)

    async def put_profile(self, sub: str, profile: WebhookProfile) -> None:
        await asyncio.to_thread(self._documents.put, webhook_secret_key(sub), profile, {})

    async def update_profile(
        self, sub: str, change: Callable[[WebhookProfile | None], WebhookProfile]
    ) -> WebhookProfile:
        key = webhook_secret_key(sub)
        return await asyncio.to_thread(self._documents.update, key, change, UPDATE_ATTEMPTS)

    def read_profile(self, sub: str) -> WebhookProfile | None:
        """The user's profile, or None; synchronous, for the sender Lambda."""
        found = self._documents.read(webhook_secret_key(sub))
        return None if found is None else found[0]

    def _client(self) -> Any:
        if self._s3 is None:
            # On a request's path (and the sender's): fail fast, as the API keys do.
            self._s3 = s3_client(self._region, read_timeout=5)
        return self._s3
