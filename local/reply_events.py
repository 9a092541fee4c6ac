"""The local stack's stand-in for S3 -> Lambda (ADR 0031): moto runs no Lambda without
Docker but does deliver the bucket's events to SQS, so this process receives them from the
queue and calls the webhook sender's own handler with each.

Like Lambda's asynchronous invocation, a failed event is tried again (here when its
message becomes visible again) and dropped after MAX_RECEIVES tries, in the log. Events are
handled side by side, so one slow receiver does not hold up the others' webhooks.

    python -m local.reply_events --queue-url URL
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from local.emulator import aws_client
from tlfif.runtime.logs import configure_logging, log_event
from webhook_sender.handler import handler

log = logging.getLogger("local.reply_events")
# Lambda tries an asynchronous event three times in all.
MAX_RECEIVES = 3
# How long a failed event waits before it is tried again (Lambda waits about a minute).
RETRY_VISIBILITY_SECONDS = 2
WORKERS = 4


@dataclass(frozen=True)
class BridgeContext:
    """The parts of a Lambda context the handler's logger reads."""

    function_name: str = "webhook_sender-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:webhook_sender"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class ReplyEventsBridge:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="reply-event") as pool:
            while not self._stop.is_set():
                answer = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=WORKERS,
                    WaitTimeSeconds=1,
                    VisibilityTimeout=120,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"],
                )
                messages = answer.get("Messages", [])
                # One batch at a time: a worker per message, so none waits on another.
                list(pool.map(self._handle, messages))

    def _handle(self, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            handler(json.loads(message["Body"]), BridgeContext())
        except Exception as exc:  # the handler's own failure: Lambda would try it again
            if receives < MAX_RECEIVES:
                log_event(log, "reply_event_retried", logging.WARNING, receives=receives,
                          error=f"{type(exc).__name__}: {exc}")  # fmt: skip
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=receipt,
                    VisibilityTimeout=RETRY_VISIBILITY_SECONDS,
                )
                return
            log_event(log, "reply_event_dropped", logging.ERROR, receives=receives,
                      body=message["Body"][:500], error=f"{type(exc).__name__}: {exc}")  # fmt: skip
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.reply_events")
    parser.add_argument("--queue-url", required=True)
    args = parser.parse_args(argv)
    configure_logging()
    sqs = aws_client("sqs", os.environ["AWS_ENDPOINT_URL"], os.environ["AWS_DEFAULT_REGION"])
    bridge = ReplyEventsBridge(sqs, args.queue_url)
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    with contextlib.suppress(KeyboardInterrupt):
        bridge.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
