"""local/reply_events.py, the local stack's S3 -> Lambda stand-in, on moto: the bucket's
notification (as local/emulator.py seeds it) really reaches the queue, the bridge hands
each event to the sender's handler and deletes it, and a failing one is tried again and
then dropped, as Lambda's asynchronous invocation does (ADR 0031)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from local import reply_events as bridge_module
from local.emulator import _seed_reply_events
from local.reply_events import MAX_RECEIVES, ReplyEventsBridge
from tests.doubles.dns_server_double import DnsServerDouble
from tests.doubles.webhook_receiver_double import WebhookReceiverDouble
from tests.fixtures.moto_server import BUCKET, REGION
from tlfif.contracts import Reply
from tlfif.runtime.logs import event_fields
from tlfif.webhook_contracts import WebhookRecord, webhook_record_key, webhook_secret_key
from tlfif.webhook_secrets import new_profile
from webhook_sender import handler as sender_module

SUB = "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"


@pytest.fixture
def s3(replies_bucket: str) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def sqs(aws: str) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queue_url(s3: Any, sqs: Any) -> str:
    """The local stack's own seeding: ObjectCreated on replies/*.json to a queue."""
    return _seed_reply_events(s3, sqs, BUCKET)


@pytest.fixture
def sender_env(
    aws: str,
    lambda_env: pytest.MonkeyPatch,
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
) -> pytest.MonkeyPatch:
    for name, value in {
        "TLFIF_BUCKET": BUCKET,
        "TLFIF_WEBHOOK_ALLOW_LOOPBACK": "true",
        "TLFIF_WEBHOOK_NAMESERVER": dns.nameserver,
        "TLFIF_SENDER_CA_FILE": str(receiver.ca_file),
        "TLFIF_SENDER_BACKOFF_SECONDS": "0.01",
    }.items():
        lambda_env.setenv(name, value)
    lambda_env.setattr(sender_module, "_sender", None)
    return lambda_env


def put_reply(s3: Any, reply: Reply) -> str:
    key = f"replies/{SUB}/{reply.id}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=reply.model_dump_json().encode())
    return key


def put_webhook(s3: Any, job_id: str, url: str) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key=webhook_secret_key(SUB),
        Body=new_profile().model_dump_json().encode(),
        ServerSideEncryption="aws:kms",
    )
    record = WebhookRecord(url=url, created_ms=1)
    s3.put_object(
        Bucket=BUCKET,
        Key=webhook_record_key(SUB, job_id),
        Body=record.model_dump_json().encode(),
    )


def messages_left(sqs: Any, queue_url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)
    return sum(int(attributes["Attributes"][name]) for name in names)


def running_until(bridge: ReplyEventsBridge, done: Callable[[], bool]) -> None:
    """Run the bridge in a thread until `done()` holds (or 20 s pass), then stop it."""
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        bridge.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_bucket_notifies_the_queue_of_new_replies_only(
    s3: Any, sqs: Any, queue_url: str
) -> None:
    reply = Reply(id=str(uuid.uuid4()), status="done", text="hi")
    put_webhook(s3, reply.id, "https://receiver.test/hook")  # other prefixes: no event
    s3.put_object(Bucket=BUCKET, Key=f"replies/{SUB}/{reply.id}.txt", Body=b"x")
    key = put_reply(s3, reply)
    s3.delete_object(Bucket=BUCKET, Key=key)  # removals: no event

    bodies = []
    while answer := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(message["Body"]) for message in answer]
    # S3 tells a queue of its new notification once, with s3:TestEvent.
    assert [body.get("Event") for body in bodies] == ["s3:TestEvent", None]
    [record] = bodies[1]["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == BUCKET
    assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_the_bridge_hands_each_event_to_the_sender_and_deletes_it(
    s3: Any,
    sqs: Any,
    queue_url: str,
    sender_env: pytest.MonkeyPatch,
    receiver: WebhookReceiverDouble,
) -> None:
    reply = Reply(id=str(uuid.uuid4()), status="done", text="hi")
    put_webhook(s3, reply.id, receiver.url(path=f"/bridged/{reply.id}"))
    put_reply(s3, reply)
    bridge = ReplyEventsBridge(sqs, queue_url)

    def delivered() -> bool:
        got = receiver.deliveries(f"/bridged/{reply.id}")
        return bool(got) and messages_left(sqs, queue_url) == 0

    running_until(bridge, delivered)
    [got] = receiver.deliveries(f"/bridged/{reply.id}")
    assert got.headers["x-tlfif-delivery"] == reply.id
    assert messages_left(sqs, queue_url) == 0  # the test event too: nothing for the sender


def test_a_failing_event_is_tried_again_then_dropped(
    s3: Any,
    sqs: Any,
    queue_url: str,
    sender_env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reply announced and then gone: the sender raises each time it is handed the event."""
    # The bridge's wait before an event is tried again: none, so the test waits for none.
    sender_env.setattr(bridge_module, "RETRY_VISIBILITY_SECONDS", 0)
    key = put_reply(s3, Reply(id=str(uuid.uuid4()), status="done", text="hi"))
    s3.delete_object(Bucket=BUCKET, Key=key)
    bridge = ReplyEventsBridge(sqs, queue_url)

    def logged(event: str) -> list[dict[str, Any]]:
        found = [event_fields(record) for record in caplog.records]
        return [fields for fields in found if fields.get("event") == event]

    with caplog.at_level(logging.INFO, logger="local.reply_events"):
        running_until(bridge, lambda: bool(logged("reply_event_dropped")))

    retried = logged("reply_event_retried")
    [dropped] = logged("reply_event_dropped")
    assert [one["receives"] for one in retried] == list(range(1, MAX_RECEIVES))
    assert dropped["receives"] == MAX_RECEIVES
    assert "ReplyStoreError" in dropped["error"]
    assert messages_left(sqs, queue_url) == 0
