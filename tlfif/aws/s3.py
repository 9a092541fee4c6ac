"""ReplyStore on S3: replies/<sub>/<id>.json, written once with a conditional PutObject.

boto3 is imported on first use, so importing this module costs the router nothing. boto3
blocks, so each call runs in a worker thread (asyncio.to_thread).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from tlfif.aws.s3_documents import error_code
from tlfif.contracts import Reply
from tlfif.errors import ReplyExists, ReplyStoreError

# S3 answers 409 ConditionalRequestConflict while a concurrent conditional write of the
# same key is in flight; AWS's advice is to retry, and the retry then sees 412 or succeeds.
CONFLICT_ATTEMPTS = 3


class S3ReplyStore:
    """Write-once replies: If-None-Match: * makes S3 refuse a second write with 412."""

    def __init__(self, bucket: str, region: str) -> None:
        self._bucket = bucket
        self._region = region
        self._s3: Any = None

    async def put_reply(self, key: str, reply: Reply) -> None:
        await asyncio.to_thread(self._put, key, reply.model_dump_json().encode("utf-8"))

    async def get_reply(self, key: str) -> Reply | None:
        return await asyncio.to_thread(self._get, key)

    def read_reply(self, key: str) -> Reply | None:
        """get_reply for a caller without an event loop (the webhook sender)."""
        return self._get(key)

    def _put(self, key: str, body: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self._client().put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
                return
            except ClientError as exc:
                code = error_code(exc)
                if code == "PreconditionFailed":
                    raise ReplyExists(f"reply {key} was written already") from exc
                if code == "ConditionalRequestConflict" and attempt < CONFLICT_ATTEMPTS:
                    continue
                raise ReplyStoreError(_failure("PutObject", key, exc)) from exc
            except BotoCoreError as exc:
                raise ReplyStoreError(_failure("PutObject", key, exc)) from exc

    def _get(self, key: str) -> Reply | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().get_object(Bucket=self._bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise ReplyStoreError(_failure("GetObject", key, exc)) from exc
        except BotoCoreError as exc:
            raise ReplyStoreError(_failure("GetObject", key, exc)) from exc
        try:
            return Reply.model_validate_json(body)
        except ValidationError as exc:
            raise ReplyStoreError(f"S3 object {key} is not a valid reply: {exc}") from exc

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = s3_client(self._region, read_timeout=10)
        return self._s3


def s3_client(region: str, *, read_timeout: float) -> Any:
    return fail_fast_client("s3", region, read_timeout=read_timeout)


def fail_fast_client(service: str, region: str, *, read_timeout: float) -> Any:
    """A boto3 client that fails fast (2 s to connect, standard retries, 3 tries), in a
    session of its own: boto3 is imported here, on first use, not by who imports this."""
    import boto3.session
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.session.Session().client(service, region_name=region, config=config)


def _failure(action: str, key: str, exc: Exception) -> str:
    return f"S3 {action} of {key} failed: {exc}"
