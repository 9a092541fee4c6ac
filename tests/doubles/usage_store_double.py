"""An in-memory UsageStore (tlfif/ports.py), for the router's and the watcher's tests; the S3
adapter itself is tested against moto (tests/integration/test_usage_store.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tlfif.errors import UsageStoreError
from tlfif.usage import add_once
from tlfif.usage_contracts import UsageDelta, UsageRecord


@dataclass
class UsageStoreDouble:
    records: dict[tuple[str, str], UsageRecord] = field(default_factory=dict)
    failing: bool = False  # every call raises UsageStoreError, as an unreachable S3 would

    async def add(self, month: str, sub: str, mark: str, delta: UsageDelta) -> UsageRecord:
        # No await between the read and the write: nothing can race it on one event loop.
        self._check()
        record = add_once(self.records.get((month, sub)), mark, delta)
        self.records[(month, sub)] = record
        return record

    async def get(self, month: str, sub: str) -> UsageRecord | None:
        self._check()
        return self.records.get((month, sub))

    async def list_month(self, month: str) -> dict[str, UsageRecord]:
        self._check()
        return {sub: record for (at, sub), record in self.records.items() if at == month}

    def _check(self) -> None:
        if self.failing:
            raise UsageStoreError("S3 GetObject of usage/... failed: the double fails")
