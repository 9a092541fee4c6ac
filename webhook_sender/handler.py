"""Lambda on the replies bucket's ObjectCreated events (replies/*.json), outside the VPC:
tells the replies topic and calls the request's webhook (tlfif/reply_events.py, ADR 0031).

Locally the emulator cannot run a Lambda; local/reply_events.py feeds this same handler
the S3 events it receives from an SQS queue.
"""

from __future__ import annotations

import threading
from typing import Any

from tlfif.aws.s3 import S3ReplyStore
from tlfif.aws.sns import SnsReplyTopic
from tlfif.aws.webhook_records import S3WebhookRecords
from tlfif.aws.webhook_secrets import S3WebhookSecrets
from tlfif.reply_events import ReplySender
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.metrics import EmfMetrics
from tlfif.settings import CommonSettings, SenderSettings
from tlfif.webhook_delivery import DeliveryPolicy, WebhookCaller, tls_context
from tlfif.webhook_targets import resolver_for

logger = lambda_logger("webhook_sender")
_sender: ReplySender | None = None
_building = threading.Lock()  # the local bridge calls the handler from several threads


def build() -> ReplySender:
    common, settings = CommonSettings.load(), SenderSettings.load()
    policy = DeliveryPolicy(
        attempts=settings.attempts,
        backoff_seconds=settings.backoff_seconds,
        timeout_seconds=settings.timeout_seconds,
        allow_loopback=common.webhook_allow_loopback,
    )
    caller = WebhookCaller(
        policy, resolver_for(common.webhook_nameserver), tls_context(settings.ca_file)
    )
    topic = SnsReplyTopic(settings.topic_arn, common.region) if settings.topic_arn else None
    return ReplySender(
        S3ReplyStore(common.bucket, common.region),
        S3WebhookRecords(common.bucket, common.region),
        S3WebhookSecrets(common.bucket, common.region),
        caller,
        EmfMetrics("webhook_sender"),
        topic,
    )


def sender() -> ReplySender:
    """Built once per execution environment: its clients outlive an invocation."""
    global _sender
    with _building:
        if _sender is None:
            _sender = build()
        return _sender


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    handled = sender().handle(event)
    return {
        "replies": [
            {
                "id": one.job_id,
                "published": one.published,
                "webhook": one.webhook.outcome if one.webhook else None,
            }
            for one in handled
        ]
    }
