"""An in-memory ApiKeyStore (tlfif/ports.py), for tests about the router's and the key
ring's decisions; the S3 adapter itself is tested against moto (tests/integration/
test_api_key_store.py). It counts the reads, so a test sees the Redis cache spare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlfif.api_key_contracts import ApiKey
from tlfif.errors import KeyStoreError


@dataclass
class ApiKeyStoreDouble:
    records: dict[str, ApiKey] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    reads: int = 0
    touches: int = 0
    failing: bool = False  # every call raises KeyStoreError, as an unreachable S3 would

    async def put_key(self, key: ApiKey) -> None:
        self._check()
        self.records[key.hash] = key.model_copy(update={"last_used_ms": None})

    async def get_key(self, key_hash: str) -> ApiKey | None:
        self._check()
        self.reads += 1
        key = self.records.get(key_hash)
        if key is None:
            return None
        return key.model_copy(update={"last_used_ms": self.used.get(key_hash)})

    async def list_keys(self) -> list[ApiKey]:
        self._check()
        keys = [await self.get_key(key_hash) for key_hash in list(self.records)]
        return sorted((k for k in keys if k is not None), key=lambda k: (k.created_ms, k.id))

    async def delete_key(self, key_hash: str) -> None:
        self._check()
        self.records.pop(key_hash, None)
        self.used.pop(key_hash, None)

    async def touch_key(self, key_hash: str, used_ms: int) -> None:
        self._check()
        self.touches += 1
        self.used[key_hash] = used_ms

    def _check(self) -> None:
        if self.failing:
            raise KeyStoreError("S3 GetObject of api-keys/... failed: the double is failing")
