"""tlfif/aws/api_keys.py against moto's S3: records under api-keys/, the last use beside
them, a late touch that cannot bring a revoked key back, and failures as KeyStoreError."""

from __future__ import annotations

import boto3
import pytest

from tests.fixtures.moto_server import REGION
from tlfif.api_key_contracts import ApiKey, new_key_id, new_secret, secret_hash
from tlfif.aws.api_keys import S3ApiKeyStore
from tlfif.errors import KeyStoreError

pytestmark = pytest.mark.anyio
SUB = "86bf2021-a197-5d3a-ac5e-d054b2c4f17e"


def a_key(name: str, created_ms: int) -> ApiKey:
    return ApiKey(
        hash=secret_hash(new_secret()), id=new_key_id(), name=name, sub=SUB, created_ms=created_ms
    )


def object_keys(bucket: str) -> list[str]:
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket)
    return sorted(str(item["Key"]) for item in listed.get("Contents", []))


async def test_a_key_is_stored_read_listed_touched_and_deleted(replies_bucket: str) -> None:
    store = S3ApiKeyStore(replies_bucket, REGION)
    older, newer = a_key("one", 1_000), a_key("two", 2_000)
    await store.put_key(newer)
    await store.put_key(older)
    assert await store.get_key(older.hash) == older
    assert [k.name for k in await store.list_keys()] == ["one", "two"]  # oldest first
    await store.touch_key(older.hash, 5_000)
    found = await store.get_key(older.hash)
    assert found is not None and found.last_used_ms == 5_000
    assert object_keys(replies_bucket) == sorted(
        [
            f"api-keys/{older.hash}.json",
            f"api-keys/{older.hash}.used",
            f"api-keys/{newer.hash}.json",
        ]
    )
    await store.delete_key(older.hash)
    assert await store.get_key(older.hash) is None
    assert [k.name for k in await store.list_keys()] == ["two"]
    await store.delete_key(older.hash)  # gone already: no error


async def test_a_touch_after_the_revoke_brings_no_key_back(replies_bucket: str) -> None:
    store = S3ApiKeyStore(replies_bucket, REGION)
    key = a_key("late", 1_000)
    await store.put_key(key)
    await store.delete_key(key.hash)
    await store.touch_key(key.hash, 9_000)  # the router's off-path write, landing late
    assert await store.get_key(key.hash) is None
    assert await store.list_keys() == []


async def test_the_object_holds_the_hash_never_a_secret(replies_bucket: str) -> None:
    store = S3ApiKeyStore(replies_bucket, REGION)
    secret = new_secret()
    key = ApiKey(hash=secret_hash(secret), id=new_key_id(), name="ci", sub=SUB, created_ms=1)
    await store.put_key(key)
    s3 = boto3.client("s3", region_name=REGION)
    body = s3.get_object(Bucket=replies_bucket, Key=f"api-keys/{key.hash}.json")["Body"].read()
    assert secret.encode() not in body and key.hash.encode() in body


async def test_failures_are_store_errors_that_name_nothing_to_callers(aws: str) -> None:
    store = S3ApiKeyStore("no-such-bucket-here", REGION)
    for call in (lambda: store.get_key("0" * 64), store.list_keys):
        with pytest.raises(KeyStoreError) as failed:
            await call()
        assert failed.value.caller_message == "key store unavailable"
        assert "NoSuchBucket" in failed.value.message  # the detail is for the logs


async def test_an_object_that_is_no_key_is_a_store_error(replies_bucket: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=replies_bucket, Key=f"api-keys/{'a' * 64}.json", Body=b"{not json")
    with pytest.raises(KeyStoreError, match="not a valid API key"):
        await S3ApiKeyStore(replies_bucket, REGION).get_key("a" * 64)
