"""UsageStore on S3 (ADR 0034): usage/<YYYY-MM>/<sub>.json per user and month, in the
replies bucket the node and the router already reach.

Every change is a conditional write, If-Match on the ETag it read (If-None-Match: * for a
user's first job of the month), so two jobs of one user finishing at once on two workers
both count. boto3 is imported on first use; each call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tlfif.aws.s3 import s3_client
from tlfif.aws.s3_documents import S3Documents
from tlfif.errors import UsageStoreError
from tlfif.usage import add_once, month_prefix, sub_of_key, usage_key
from tlfif.usage_contracts import UsageDelta, UsageRecord

# A user's jobs finish a few at a time at most (the watcher's concurrency): a few tries
# after a lost race are plenty.
UPDATE_ATTEMPTS = 8


class S3UsageStore:
    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None
        self._documents = S3Documents(
            self._client, bucket, UsageRecord, UsageStoreError, "usage record"
        )

    async def add(self, month: str, sub: str, mark: str, delta: UsageDelta) -> UsageRecord:
        def change(current: UsageRecord | None) -> UsageRecord:
            return add_once(current, mark, delta)  # itself when counted: a redelivered job

        key = usage_key(month, sub)
        return await asyncio.to_thread(self._documents.update, key, change, UPDATE_ATTEMPTS)

    async def get(self, month: str, sub: str) -> UsageRecord | None:
        found = await asyncio.to_thread(self._documents.read, usage_key(month, sub))
        return None if found is None else found[0]

    async def list_month(self, month: str) -> dict[str, UsageRecord]:
        return await asyncio.to_thread(self._list_month, month)

    def _list_month(self, month: str) -> dict[str, UsageRecord]:
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = month_prefix(month)
        keys: list[str] = []
        try:
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self._bucket, Prefix=prefix):
                keys.extend(str(item["Key"]) for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as exc:
            raise UsageStoreError(f"S3 ListObjectsV2 of {prefix} failed: {exc}") from exc
        records: dict[str, UsageRecord] = {}
        for key in keys:
            found = self._documents.read(key)
            if found is not None:  # deleted between the list and the read
                records[sub_of_key(key, month)] = found[0]
        return records

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = s3_client(self._region, read_timeout=5)
        return self._s3
