"""The replies topic on SNS (ADR 0031): one message per reply, its id, submitter and status,
for whoever subscribed (an email, a phone, a queue). boto3 is imported on first use."""

from __future__ import annotations

from typing import Any

from tlfif.aws.s3 import fail_fast_client
from tlfif.errors import NotifyError
from tlfif.webhook_contracts import ReplyNotice


class SnsReplyTopic:
    def __init__(self, topic_arn: str, region: str) -> None:
        self._topic_arn = topic_arn
        self._region = region
        self._sns: Any = None

    def publish(self, notice: ReplyNotice) -> str:
        """Publish the notice; returns SNS's message id. Raises NotifyError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().publish(
                TopicArn=self._topic_arn,
                Subject=f"TL-FIF reply {notice.status}",
                Message=notice.model_dump_json(),
                # Subscribers may filter on these (an SNS subscription filter policy).
                MessageAttributes={
                    "status": {"DataType": "String", "StringValue": notice.status},
                    "submitter": {"DataType": "String", "StringValue": notice.submitter},
                },
            )
        except (BotoCoreError, ClientError) as exc:
            raise NotifyError(f"SNS Publish to {self._topic_arn} failed: {exc}") from exc
        return str(response.get("MessageId", ""))

    def _client(self) -> Any:
        if self._sns is None:
            self._sns = fail_fast_client("sns", self._region, read_timeout=5)
        return self._sns
