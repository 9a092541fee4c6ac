"""tlfif/aws/usage.py against moto's S3: a record per user and month under usage/, added to
once per job id, by conditional writes a racing writer cannot undo; failures as
UsageStoreError that name nothing to callers."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from tests.fixtures.moto_server import REGION
from tlfif.aws.s3_documents import S3Documents
from tlfif.aws.usage import UPDATE_ATTEMPTS, S3UsageStore
from tlfif.errors import UsageStoreError
from tlfif.usage import usage_key
from tlfif.usage_contracts import UsageDelta, UsageRecord

pytestmark = pytest.mark.anyio
MONTH = "2026-12"
ONE_JOB = UsageDelta(
    prompts=1, prompt_tokens=10, completion_tokens=20, node_seconds=3.5, cost_eur=0.0006
)


async def test_a_job_is_added_once_and_read_back(replies_bucket: str) -> None:
    store = S3UsageStore(replies_bucket, REGION)
    assert await store.get(MONTH, "alice") is None
    await store.add(MONTH, "alice", "job-1", ONE_JOB)
    again = await store.add(MONTH, "alice", "job-1", ONE_JOB)  # a redelivered job
    assert again.prompts == 1 and again.counted == ["job-1"]
    both = await store.add(MONTH, "alice", "job-2", ONE_JOB)
    assert (both.prompts, both.completion_tokens, both.node_seconds) == (2, 40, 7.0)
    assert await store.get(MONTH, "alice") == both
    stored = boto3.client("s3", region_name=REGION).get_object(
        Bucket=replies_bucket, Key=f"usage/{MONTH}/alice.json"
    )
    assert stored["ContentType"] == "application/json"


async def test_the_month_lists_every_user(replies_bucket: str) -> None:
    store = S3UsageStore(replies_bucket, REGION)
    await store.add(MONTH, "alice", "job-1", ONE_JOB)
    await store.add(MONTH, "bob", "job-2", ONE_JOB)
    await store.add("2026-11", "carol", "job-3", ONE_JOB)
    listed = await store.list_month(MONTH)
    assert sorted(listed) == ["alice", "bob"]
    assert listed["bob"].counted == ["job-2"]


async def test_concurrent_jobs_of_one_user_all_count(replies_bucket: str) -> None:
    """Two workers finishing at once: the loser of If-Match / If-None-Match reads again."""
    store = S3UsageStore(replies_bucket, REGION)
    await asyncio.gather(*(store.add(MONTH, "alice", f"job-{n}", ONE_JOB) for n in range(4)))
    record = await store.get(MONTH, "alice")
    assert record is not None and record.prompts == 4 and len(set(record.counted)) == 4


async def test_endless_races_end_as_a_store_error(
    replies_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = S3UsageStore(replies_bucket, REGION)
    await store.add(MONTH, "alice", "job-0", ONE_JOB)
    s3 = boto3.client("s3", region_name=REGION)
    original = S3Documents.read
    reads = 0

    def read_then_race(documents: S3Documents[UsageRecord], key: str) -> Any:
        nonlocal reads
        reads += 1
        found = original(documents, key)
        # A body of its own each time: the same bytes would carry the same ETag.
        raced = UsageRecord(prompts=100 + reads)
        s3.put_object(Bucket=replies_bucket, Key=key, Body=raced.model_dump_json())
        return found

    monkeypatch.setattr(S3Documents, "read", read_then_race)
    with pytest.raises(UsageStoreError, match="races"):
        await store.add(MONTH, "alice", "job-1", ONE_JOB)
    assert reads == UPDATE_ATTEMPTS


async def test_failures_are_store_errors_that_name_nothing_to_callers(
    replies_bucket: str,
) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=replies_bucket, Key=usage_key(MONTH, "mallory"), Body=b'{"prompts": -1}'
    )
    with pytest.raises(UsageStoreError, match="not a valid usage record"):
        await S3UsageStore(replies_bucket, REGION).get(MONTH, "mallory")
    store = S3UsageStore("no-such-bucket-here", REGION)
    for call in (
        store.get(MONTH, "alice"),
        store.add(MONTH, "alice", "job-1", ONE_JOB),
        store.list_month(MONTH),
    ):
        with pytest.raises(UsageStoreError) as failed:
            await call
        assert failed.value.caller_message == "usage store unavailable"
        assert "NoSuchBucket" in failed.value.message
