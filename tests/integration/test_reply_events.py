"""The webhook sender Lambda (webhook_sender/handler.py, tlfif/reply_events.py) on moto: the
S3 events moto itself sends for the replies bucket, the replies topic read back through an
SQS subscriber, and the webhook at a real HTTPS receiver double (ADR 0031)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

import boto3
import pytest

from tests.doubles.dns_server_double import DnsServerDouble
from tests.doubles.lambda_context import ACCOUNT, LambdaContextDouble
from tests.doubles.webhook_receiver_double import WebhookReceiverDouble
from tests.fixtures.emf import metric_values
from tests.fixtures.moto_server import BUCKET, REGION
from tlfif.aws.webhook_records import S3WebhookRecords
from tlfif.contracts import Reply, Usage
from tlfif.errors import NotifyError, ReplyStoreError
from tlfif.runtime.logs import event_fields
from tlfif.webhook_contracts import (
    ReplyNotice,
    WebhookProfile,
    WebhookRecord,
    verify_signature,
    webhook_secret_key,
)
from tlfif.webhook_secrets import new_profile
from webhook_sender import handler as sender_module

SUB = "4f1c2a9e-7b3d-4e5f-8a6b-9c0d1e2f3a4b"


@dataclass(frozen=True)
class Replies:
    """The replies bucket with a queue of every event it sends, and the replies topic with
    a subscriber queue (raw delivery: the body is the notice)."""

    s3: Any
    sqs: Any
    records: S3WebhookRecords
    topic_arn: str
    events_url: str
    notices_url: str

    def with_webhook(self, url: str, job_id: str, sub: str = SUB, **profile: Any) -> WebhookProfile:
        """What the router leaves before it queues a job naming `url`: the user's profile
        (as S3WebhookSecrets writes it) and the request's webhook record."""
        made = new_profile(**profile)
        self.s3.put_object(
            Bucket=BUCKET,
            Key=webhook_secret_key(sub),
            Body=made.model_dump_json().encode(),
            ServerSideEncryption="aws:kms",
        )
        self.put_record(sub, job_id, url)
        return made

    def put_record(self, sub: str, job_id: str, url: str) -> None:
        record = WebhookRecord(url=url, created_ms=1)
        asyncio.run(self.records.put_record(sub, job_id, record))

    def put_reply(self, reply: Reply, sub: str = SUB) -> str:
        key = f"replies/{sub}/{reply.id}.json"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=reply.model_dump_json().encode())
        return key

    def events(self) -> list[dict[str, Any]]:
        """Every S3 event delivered so far, oldest first, taken off the queue."""
        return [json.loads(message["Body"]) for message in drain(self.sqs, self.events_url)]

    def notices(self) -> list[dict[str, Any]]:
        return drain(self.sqs, self.notices_url)


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return taken
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        taken += messages


def queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


@pytest.fixture
def replies(replies_bucket: str) -> Replies:
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    events_url = sqs.create_queue(QueueName="bucket-events")["QueueUrl"]
    # No filter, removals too: the handler must itself skip what is not a new reply.
    s3.put_bucket_notification_configuration(
        Bucket=replies_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn(sqs, events_url),
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
    topic_arn = sns.create_topic(Name="tl-fif-replies")["TopicArn"]
    notices_url = sqs.create_queue(QueueName="reply-notices")["QueueUrl"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, notices_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    return Replies(s3, sqs, S3WebhookRecords(BUCKET, REGION), topic_arn, events_url, notices_url)


@pytest.fixture
def sender_env(
    aws: str,
    replies: Replies,
    lambda_env: pytest.MonkeyPatch,
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
) -> pytest.MonkeyPatch:
    """The sender's settings as the local stack sets them, and a fresh execution
    environment (its module-level sender built again from them)."""
    for name, value in {
        "TLFIF_BUCKET": BUCKET,
        "TLFIF_SENDER_TOPIC_ARN": replies.topic_arn,
        "TLFIF_WEBHOOK_ALLOW_LOOPBACK": "true",
        "TLFIF_WEBHOOK_NAMESERVER": dns.nameserver,
        "TLFIF_SENDER_CA_FILE": str(receiver.ca_file),
        "TLFIF_SENDER_ATTEMPTS": "2",
        "TLFIF_SENDER_BACKOFF_SECONDS": "0.01",
        "TLFIF_SENDER_TIMEOUT_SECONDS": "2",
    }.items():
        lambda_env.setenv(name, value)
    lambda_env.setattr(sender_module, "_sender", None)
    return lambda_env


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return sender_module.handler(event, LambdaContextDouble(function_name="webhook_sender"))


def a_reply(status: str = "done", text: str = "the answer is 42") -> Reply:
    return Reply.model_validate(
        {
            "id": str(uuid.uuid4()),
            "status": status,
            "text": text,
            "usage": Usage(prompt_tokens=7, completion_tokens=5),
            "finish_reason": "stop" if status == "done" else None,
        }
    )


def reply_events(replies: Replies) -> list[dict[str, Any]]:
    """The events for new replies among those the bucket sent (dropping the others)."""
    return [
        event
        for event in replies.events()
        if "Records" in event
        and event["Records"][0]["eventName"].startswith("ObjectCreated:")
        and unquote_plus(event["Records"][0]["s3"]["object"]["key"]).startswith("replies/")
    ]


def test_a_reply_with_a_webhook_is_announced_and_delivered(
    sender_env: pytest.MonkeyPatch,
    replies: Replies,
    receiver: WebhookReceiverDouble,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reply = a_reply()
    mark = len(receiver.deliveries())
    profile = replies.with_webhook(receiver.url(path="/announced"), reply.id)
    key = replies.put_reply(reply)
    # Every event the bucket sent, in order: the s3:TestEvent of the configuration, the
    # profile's and the record's, the reply's. Only the last is a reply.
    results = [handle(event) for event in replies.events()]

    assert results[:-1] == [{"replies": []}] * (len(results) - 1) and len(results) == 4
    assert results[-1] == {"replies": [{"id": reply.id, "published": True, "webhook": "delivered"}]}

    [notice] = replies.notices()
    assert ReplyNotice.model_validate_json(notice["Body"]) == ReplyNotice(
        id=reply.id,
        submitter=SUB,
        status="done",
        reply_key=key,
        finished_ms=reply.finished_ms,
    )
    attributes = notice["MessageAttributes"]
    assert attributes["status"]["StringValue"] == "done"
    assert attributes["submitter"]["StringValue"] == SUB

    [got] = receiver.deliveries()[mark:]
    assert got.path == "/announced"
    headers = got.headers
    assert verify_signature(
        profile.secret, headers["x-tlfif-timestamp"], got.body, headers["x-tlfif-signature"]
    )
    assert headers["x-tlfif-delivery"] == reply.id
    body = json.loads(got.body)
    assert (body["id"], body["status"], body["reply_key"]) == (reply.id, "done", key)
    assert "text" not in body

    out = capsys.readouterr().out
    assert metric_values(out, "ReplyNotices") == [1.0]
    assert metric_values(out, "WebhooksDelivered") == [1.0]


def test_the_text_goes_along_when_the_user_turned_it_on(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    reply = a_reply()
    replies.with_webhook(receiver.url(path="/with-text"), reply.id, include_text=True)
    replies.put_reply(reply)
    [event] = reply_events(replies)
    handle(event)
    [got] = receiver.deliveries("/with-text")
    assert json.loads(got.body)["text"] == "the answer is 42"


def test_a_reply_without_a_webhook_is_only_announced(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    mark = len(receiver.deliveries())
    reply = a_reply(status="error", text="")
    replies.put_reply(reply)
    [event] = reply_events(replies)
    assert handle(event) == {"replies": [{"id": reply.id, "published": True, "webhook": None}]}
    [notice] = replies.notices()
    assert json.loads(notice["Body"])["status"] == "error"
    assert receiver.deliveries()[mark:] == []


def test_another_prefix_a_removal_and_the_test_event_do_nothing(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    reply = a_reply()
    key = replies.put_reply(reply)
    replies.events()  # the configuration's test event and the reply's own: not these
    replies.s3.put_object(Bucket=BUCKET, Key=f"webhooks/{SUB}/{reply.id}.json", Body=b"{}")
    replies.s3.put_object(Bucket=BUCKET, Key=f"replies/{SUB}/{reply.id}.txt", Body=b"x")
    replies.s3.put_object(Bucket=BUCKET, Key=f"replies/{SUB}/not-a-job.json", Body=b"{}")
    replies.s3.delete_object(Bucket=BUCKET, Key=key)
    events = replies.events()
    names = [event["Records"][0]["eventName"] for event in events]
    assert names == ["ObjectCreated:Put"] * 3 + ["ObjectRemoved:Delete"]
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
    for event in [*events, test_event, {}, {"Records": "garbled"}, {"Records": [None, {}]}]:
        assert handle(event) == {"replies": []}
    assert replies.notices() == []


# A Cognito identity id has the region and a colon (S3's event escapes it: %3A); user-pool
# subs are UUIDs, API keys' are their owners'. '+' and ' ' are where S3's escaping can go
# wrong (in an event a '+' is a space).
ESCAPED_SUBS = ["eu-central-1:6a2b9c1e-3d4f-4a5b-8c7d-0e1f2a3b4c5d", "a+b c"]


def test_a_key_that_s3_escapes_in_the_event_is_read_by_its_real_name(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    keys, events = {}, []
    for number, sub in enumerate(ESCAPED_SUBS):
        reply = a_reply()
        replies.with_webhook(receiver.url(path=f"/escaped-{number}"), reply.id, sub=sub)
        keys[reply.id] = replies.put_reply(reply, sub=sub)
        [event] = reply_events(replies)
        escaped = event["Records"][0]["s3"]["object"]["key"]
        assert escaped != keys[reply.id] and ("%3A" in escaped or "%2B" in escaped)
        events.append(event)
    # moto escapes '/' too (%2F); AWS's own events have been seen with it kept.
    kept = json.loads(json.dumps(events[0]))
    kept["Records"][0]["s3"]["object"]["key"] = quote(next(iter(keys.values())), safe="/")
    events.append(kept)

    for event in events:
        assert handle(event)["replies"][0]["webhook"] == "delivered"
    notices = [json.loads(notice["Body"]) for notice in replies.notices()]
    assert [(one["submitter"], one["reply_key"]) for one in notices] == [
        *[(sub, key) for sub, key in zip(ESCAPED_SUBS, keys.values(), strict=True)],
        (ESCAPED_SUBS[0], next(iter(keys.values()))),
    ]
    assert len(receiver.deliveries("/escaped-0")) == 2  # the event twice: delivered twice
    assert len(receiver.deliveries("/escaped-1")) == 1


def test_a_topic_that_fails_still_lets_the_webhook_go_then_the_event_fails(
    sender_env: pytest.MonkeyPatch,
    replies: Replies,
    receiver: WebhookReceiverDouble,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sender_env.setenv("TLFIF_SENDER_TOPIC_ARN", f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic")
    reply = a_reply()
    replies.with_webhook(receiver.url(path="/topic-down"), reply.id)
    replies.put_reply(reply)
    [event] = reply_events(replies)

    # Raised, so Lambda tries the event again (and the receiver dedupes on the job id).
    with pytest.raises(NotifyError):
        handle(event)
    assert len(receiver.deliveries("/topic-down")) == 1
    out = capsys.readouterr().out
    assert metric_values(out, "ReplyNoticeFailed") == [1.0]
    assert metric_values(out, "WebhooksDelivered") == [1.0]


def test_no_topic_configured_still_delivers_the_webhook(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    sender_env.setenv("TLFIF_SENDER_TOPIC_ARN", "")
    reply = a_reply()
    replies.with_webhook(receiver.url(path="/no-topic"), reply.id)
    replies.put_reply(reply)
    [event] = reply_events(replies)
    assert handle(event)["replies"] == [
        {"id": reply.id, "published": False, "webhook": "delivered"}
    ]
    assert replies.notices() == []


def test_a_reply_that_is_gone_fails_the_event_after_the_others_in_it(
    sender_env: pytest.MonkeyPatch, replies: Replies, receiver: WebhookReceiverDouble
) -> None:
    gone, kept = a_reply(), a_reply()
    replies.with_webhook(receiver.url(path="/kept"), kept.id)
    replies.s3.delete_object(Bucket=BUCKET, Key=replies.put_reply(gone))
    replies.put_reply(kept)
    first, second = reply_events(replies)
    together = {"Records": first["Records"] + second["Records"]}

    with pytest.raises(ReplyStoreError):
        handle(together)
    # The other reply in the same event was handled all the same.
    [notice] = replies.notices()
    assert json.loads(notice["Body"])["id"] == kept.id
    assert len(receiver.deliveries("/kept")) == 1


def test_a_webhook_that_may_not_be_sent_is_refused(
    sender_env: pytest.MonkeyPatch,
    replies: Replies,
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its user has no secret to sign with; or its host, checked at submit, has since
    moved into the VPC."""
    no_secret, moved = a_reply(), a_reply()
    replies.put_record(SUB, no_secret.id, receiver.url(path="/no-secret"))
    replies.put_reply(no_secret)
    other = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
    dns.answer("moved.test", "10.0.0.12")
    replies.with_webhook(f"https://moved.test:{receiver.port}/moved", moved.id, sub=other)
    replies.put_reply(moved, sub=other)
    events = reply_events(replies)

    with caplog.at_level(logging.WARNING, logger="tlfif.reply_events"):
        for event in events:
            assert handle(event)["replies"][0]["webhook"] == "refused"
    assert receiver.deliveries("/no-secret") == receiver.deliveries("/moved") == []
    logged = [event_fields(r) for r in caplog.records if r.name == "tlfif.reply_events"]
    assert [one["event"] for one in logged] == ["webhook_not_delivered"] * 2
    assert logged[0]["detail"] == "the user has no webhook secret"
    assert "resolves to a private" in logged[1]["detail"]
    assert "10.0.0.12" not in logged[1]["detail"]


def test_a_failing_receiver_is_given_up_on_without_failing_the_event(
    sender_env: pytest.MonkeyPatch,
    replies: Replies,
    receiver: WebhookReceiverDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reply = a_reply()
    mark = len(receiver.deliveries("/status/503"))
    replies.with_webhook(receiver.url(path="/status/503"), reply.id)
    replies.put_reply(reply)
    [event] = reply_events(replies)
    with caplog.at_level(logging.WARNING, logger="tlfif.reply_events"):
        result = handle(event)
    assert result["replies"] == [{"id": reply.id, "published": True, "webhook": "failed"}]
    assert len(receiver.deliveries("/status/503")) == mark + 2  # TLFIF_SENDER_ATTEMPTS
    [logged] = [event_fields(r) for r in caplog.records if r.name == "tlfif.reply_events"]
    assert (logged["outcome"], logged["attempts"], logged["status"]) == ("failed", 2, 503)
