"""What happens once a reply lands in S3 (ADR 0031): the replies topic hears of it, and the
request's webhook, if it named one, is called.

Driven by the bucket's ObjectCreated events on replies/ (a Lambda outside the VPC on AWS;
locally a process fed by an SQS queue the emulator notifies), so whoever wrote the reply
(the watcher, the router's cancel, the scheduled check's expiry) needs to know nothing of
it, and the GPU node may stop the moment its reply is written.

Deliveries are at least once: S3 may send an event twice, and a failed publish makes the
whole event fail so it is tried again. A receiver dedupes on X-Tlfif-Delivery (the job id).
A failing receiver is tried a bounded number of times and then given up on, in the logs:
the reply itself is already readable at GET /result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_plus

from tlfif.contracts import Reply
from tlfif.errors import NotifyError, ReplyStoreError, TlfifError
from tlfif.ports import Metrics
from tlfif.runtime.logs import log_event
from tlfif.webhook_contracts import ReplyNotice, WebhookProfile, WebhookRecord
from tlfif.webhook_delivery import Delivery, WebhookCaller

log = logging.getLogger(__name__)
# replies/<sub>/<uuid>.json: the sub may hold no "/", the id is the job's uuid.
_REPLY_KEY = re.compile(r"^replies/(?P<sub>[^/]+)/(?P<id>[0-9a-f-]{36})\.json$")


class ReplyReader(Protocol):
    def read_reply(self, key: str) -> Reply | None: ...


class RecordReader(Protocol):
    def read_record(self, sub: str, job_id: str) -> WebhookRecord | None: ...


class ProfileReader(Protocol):
    def read_profile(self, sub: str) -> WebhookProfile | None: ...


class Topic(Protocol):
    def publish(self, notice: ReplyNotice) -> str: ...


@dataclass(frozen=True)
class ReplyLanded:
    bucket: str
    key: str
    sub: str
    job_id: str


@dataclass(frozen=True)
class Handled:
    job_id: str
    published: bool
    webhook: Delivery | None


def replies_in(event: Any) -> Iterator[ReplyLanded]:
    """The replies an S3 event notification tells of; anything else in it (another prefix,
    a removal, the s3:TestEvent S3 sends a queue once) is skipped."""
    records = event.get("Records") if isinstance(event, dict) else None
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3")
        if not isinstance(s3, dict):
            continue
        bucket = str((s3.get("bucket") or {}).get("name", ""))
        key = unquote_plus(str((s3.get("object") or {}).get("key", "")))  # S3 escapes keys
        match = _REPLY_KEY.match(key)
        if match:
            yield ReplyLanded(bucket, key, match["sub"], match["id"])


class ReplySender:
    def __init__(
        self,
        replies: ReplyReader,
        records: RecordReader,
        profiles: ProfileReader,
        caller: WebhookCaller,
        metrics: Metrics,
        topic: Topic | None = None,
    ) -> None:
        self._replies = replies
        self._records = records
        self._profiles = profiles
        self._caller = caller
        self._metrics = metrics
        self._topic = topic

    def handle(self, event: Any) -> list[Handled]:
        """Every reply the event tells of. Raises the first failure of our own (a store or
        the topic) after the others were handled, so the event is tried again."""
        handled, failure = [], None
        for landed in replies_in(event):
            try:
                handled.append(self.on_reply(landed))
            except TlfifError as exc:
                log_event(log, "reply_event_failed", logging.ERROR, jobId=landed.job_id,
                          replyKey=landed.key, error=exc.message)  # fmt: skip
                failure = failure or exc
        if failure is not None:
            raise failure
        return handled

    def on_reply(self, landed: ReplyLanded) -> Handled:
        reply = self._replies.read_reply(landed.key)
        if reply is None:
            raise ReplyStoreError(f"reply {landed.key} was announced but cannot be read")
        published, publish_error = self._publish(landed, reply)
        delivery = self._webhook(landed, reply)
        if publish_error is not None:
            raise publish_error  # after the webhook: a receiver never waits on SNS
        return Handled(landed.job_id, published, delivery)

    def _publish(self, landed: ReplyLanded, reply: Reply) -> tuple[bool, NotifyError | None]:
        if self._topic is None:
            return False, None
        notice = ReplyNotice(
            id=reply.id,
            submitter=landed.sub,
            status=reply.status,
            reply_key=landed.key,
            finished_ms=reply.finished_ms,
        )
        try:
            message_id = self._topic.publish(notice)
        except NotifyError as exc:
            self._metrics.count("ReplyNoticeFailed")
            return False, exc
        self._metrics.count("ReplyNotices")
        log_event(log, "reply_published", jobId=reply.id, status=reply.status, messageId=message_id)
        return True, None

    def _webhook(self, landed: ReplyLanded, reply: Reply) -> Delivery | None:
        record = self._records.read_record(landed.sub, landed.job_id)
        if record is None:
            return None
        profile = self._profiles.read_profile(landed.sub)
        if profile is None:
            # The router makes the profile before it queues a job with a webhook; a user
            # whose profile went since has nothing to sign with.
            delivery = Delivery("refused", 0, None, "the user has no webhook secret")
        else:
            delivery = self._caller.deliver(record.url, reply, landed.key, profile)
        self._report(landed, reply, delivery)
        return delivery

    def _report(self, landed: ReplyLanded, reply: Reply, delivery: Delivery) -> None:
        fields: dict[str, Any] = {
            "jobId": reply.id,
            "replyKey": landed.key,
            "outcome": delivery.outcome,
            "attempts": delivery.attempts,
            "status": delivery.status,
            "detail": delivery.detail,
        }
        if delivery.outcome == "delivered":
            self._metrics.count("WebhooksDelivered")
            if delivery.delivered_ms is not None:
                fields["delayMs"] = delivery.delivered_ms - reply.finished_ms
            log_event(log, "webhook_delivered", **fields)
            return
        self._metrics.count("WebhookRefused" if delivery.outcome == "refused" else "WebhookFailed")
        # Where the job went: answered, its reply in S3, only the call to the receiver failed.
        log_event(log, "webhook_not_delivered", logging.WARNING, **fields)
