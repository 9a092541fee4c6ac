"""UsageStore on S3 (ADR 0034): usage/<YYYY-MM>/<sub>.json per user and month, in the
replies bucket the node and the router already reach.

Every change is a conditional write, If-Match on the ETag it read (If-None-Match: * for a
user's first job of the month), so two jobs of one user finishing at once on two workers
both count. boto3 is imported on first use; each call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from tlfif.aws.s3 import s3_client
from tlfif.errors import UsageStoreError
from tlfif.usage import add_once, month_prefix, sub_of_key, usage_key
from tlfif.usage_contracts import UsageDelta, UsageRecord

# A user's jobs finish a few at a time at most (the watcher's concurrency): a few tries
# after a lost race are plenty.
UPDATE_ATTEMPTS = 8
# 412 when the object changed (or, for If-None-Match, exists), 409 while another
# conditional write of it is in flight, 404 for If-Match on an object deleted meanwhile.
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


class _LostRace(Exception):
    """A conditional write found the object changed since it was read."""


class S3UsageStore:
    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None

    async def add(self, month: str, sub: str, mark: str, delta: UsageDelta) -> UsageRecord:
        return await asyncio.to_thread(self._add, usage_key(month, sub), mark, delta)

    async def get(self, month: str, sub: str) -> UsageRecord | None:
        found = await asyncio.to_thread(self._read, usage_key(month, sub))
        return None if found is None else found[0]

    async def list_month(self, month: str) -> dict[str, UsageRecord]:
        return await asyncio.to_thread(self._list_month, month)

    def _add(self, key: str, mark: str, delta: UsageDelta) -> UsageRecord:
        for _ in range(UPDATE_ATTEMPTS):
            found = self._read(key)
            current, etag = found if found is not None else (None, None)
            wanted = add_once(current, mark, delta)
            if wanted is current:
                return wanted  # counted already: a redelivered job
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                self._put(key, wanted, condition)
            except _LostRace:
                continue
            return wanted
        raise UsageStoreError(f"S3 PutObject of {key} lost {UPDATE_ATTEMPTS} races in a row")

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
            found = self._read(key)
            if found is not None:  # deleted between the list and the read
                records[sub_of_key(key, month)] = found[0]
        return records

    def _read(self, key: str) -> tuple[UsageRecord, str] | None:
        """The record and its ETag, or None when there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().get_object(Bucket=self._bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            if _error_code(exc) == "NoSuchKey":
                return None
            raise UsageStoreError(f"S3 GetObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise UsageStoreError(f"S3 GetObject of {key} failed: {exc}") from exc
        try:
            return UsageRecord.model_validate_json(body), str(response["ETag"])
        except ValidationError as exc:
            raise UsageStoreError(f"S3 object {key} is not a valid usage record") from exc

    def _put(self, key: str, record: UsageRecord, condition: dict[str, str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=record.model_dump_json().encode("utf-8"),
                ContentType="application/json",
                **condition,
            )
        except ClientError as exc:
            if _error_code(exc) in _LOST_RACE:
                raise _LostRace from exc
            raise UsageStoreError(f"S3 PutObject of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise UsageStoreError(f"S3 PutObject of {key} failed: {exc}") from exc

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = s3_client(self._region, read_timeout=5)
        return self._s3


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
