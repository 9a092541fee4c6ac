"""ApiKeyStore on S3 (ADR 0027): api-keys/<sha256>.json per key, in the replies bucket the
router already reaches, and api-keys/<sha256>.used beside it for its last use.

The last use is an object of its own so that a late write of it (the router records it off
the request's path) can never bring back a key revoked meanwhile: a look-up reads the
.json alone. The bucket's lifecycle expires replies/ only; old versions of a deleted key
go with the bucket's noncurrent-version rule. boto3 is imported on first use and runs in a
worker thread, as in tlfif/aws/s3.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from tlfif.api_key_contracts import ApiKey
from tlfif.aws.s3 import s3_client
from tlfif.errors import KeyStoreError

PREFIX = "api-keys/"
RECORD, USED = ".json", ".used"


class S3ApiKeyStore:
    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None

    async def put_key(self, key: ApiKey) -> None:
        body = key.model_dump_json(exclude={"last_used_ms"}).encode("utf-8")
        await asyncio.to_thread(self._call, "PutObject", _record(key.hash), body)

    async def get_key(self, key_hash: str) -> ApiKey | None:
        return await asyncio.to_thread(self._get_key, key_hash)

    async def list_keys(self) -> list[ApiKey]:
        return await asyncio.to_thread(self._list_keys)

    async def delete_key(self, key_hash: str) -> None:
        await asyncio.to_thread(self._call, "DeleteObject", _record(key_hash))
        await asyncio.to_thread(self._call, "DeleteObject", _used(key_hash))

    async def touch_key(self, key_hash: str, used_ms: int) -> None:
        await asyncio.to_thread(self._call, "PutObject", _used(key_hash), str(used_ms).encode())

    def _get_key(self, key_hash: str) -> ApiKey | None:
        body = self._call("GetObject", _record(key_hash))
        if body is None:
            return None
        used = self._call("GetObject", _used(key_hash))
        return _parse(body, used, key_hash)

    def _list_keys(self) -> list[ApiKey]:
        hashes = self._listed_hashes()
        found = []
        for key_hash in hashes:
            # Listed a moment ago, gone now: revoked in between.
            if (key := self._get_key(key_hash)) is not None:
                found.append(key)
        return sorted(found, key=lambda key: (key.created_ms, key.id))

    def _listed_hashes(self) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        hashes = []
        try:
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self._bucket, Prefix=PREFIX):
                for item in page.get("Contents", []):
                    name = str(item["Key"]).removeprefix(PREFIX)
                    if name.endswith(RECORD):
                        hashes.append(name.removesuffix(RECORD))
        except (BotoCoreError, ClientError) as exc:
            raise KeyStoreError(f"S3 ListObjectsV2 of {PREFIX} failed: {exc}") from exc
        return hashes

    def _call(self, action: str, key: str, body: bytes | None = None) -> bytes | None:
        """One S3 call on `key`; GetObject's body, or None when it does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError

        s3 = self._client()
        try:
            if action == "GetObject":
                return bytes(s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())
            if action == "PutObject":
                s3.put_object(
                    Bucket=self._bucket, Key=key, Body=body, ContentType="application/json"
                )
            else:
                s3.delete_object(Bucket=self._bucket, Key=key)
            return None
        except ClientError as exc:
            if action == "GetObject" and exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise KeyStoreError(f"S3 {action} of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise KeyStoreError(f"S3 {action} of {key} failed: {exc}") from exc

    def _client(self) -> Any:
        if self._s3 is None:
            # A look-up sits on a request's path (a cache miss): fail fast, as the replies do.
            self._s3 = s3_client(self._region, read_timeout=5)
        return self._s3


def _record(key_hash: str) -> str:
    return f"{PREFIX}{key_hash}{RECORD}"


def _used(key_hash: str) -> str:
    return f"{PREFIX}{key_hash}{USED}"


def _parse(body: bytes, used: bytes | None, key_hash: str) -> ApiKey:
    try:
        key = ApiKey.model_validate_json(body)
        last_used = int(used) if used else None
    except (ValidationError, ValueError) as exc:
        raise KeyStoreError(f"S3 object {_record(key_hash)} is not a valid API key") from exc
    return key.model_copy(update={"last_used_ms": last_used})
