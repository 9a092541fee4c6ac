"""WebhookRecords on S3 (ADR 0031): webhooks/<sub>/<id>.json in the replies bucket, which
the router writes before it queues a job with a webhook and the sender reads when the
job's reply lands. The bucket's lifecycle expires them after two days.

boto3 is imported on first use; the router's write runs in a worker thread, as in
tlfif/aws/s3.py. The sender, a plain synchronous Lambda, reads directly.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from tlfif.aws.s3 import s3_client
from tlfif.errors import ReplyStoreError
from tlfif.webhook_contracts import WebhookRecord, webhook_record_key


class S3WebhookRecords:
    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None

    async def put_record(self, sub: str, job_id: str, record: WebhookRecord) -> None:
        await asyncio.to_thread(self._put, webhook_record_key(sub, job_id), record)

    def read_record(self, sub: str, job_id: str) -> WebhookRecord | None:
        key = webhook_record_key(sub, job_id)
        body = self._get(key)
        if body is None:
            return None
        try:
            return WebhookRecord.model_validate_json(body)
        except ValidationError as exc:
            raise ReplyStoreError(f"S3 object {key} is not a webhook record: {exc}") from exc

    def _put(self, key: str, record: WebhookRecord) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=record.model_dump_json().encode("utf-8"),
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as exc:
            raise ReplyStoreError(f"S3 PutObject of {key} failed: {exc}") from exc

    def _get(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return bytes(self._client().get_object(Bucket=self._bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise ReplyStoreError(f"S3 GetObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise ReplyStoreError(f"S3 GetObject of {key} failed: {exc}") from exc

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = s3_client(self._region, read_timeout=10)
        return self._s3
