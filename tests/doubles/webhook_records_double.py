"""WebhookRecords in memory: what the router kept for each job's webhook."""

from __future__ import annotations

from tlfif.webhook_contracts import WebhookRecord


class WebhookRecordsDouble:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], WebhookRecord] = {}

    async def put_record(self, sub: str, job_id: str, record: WebhookRecord) -> None:
        self.records[(sub, job_id)] = record
