"""An in-memory WebhookSecrets (tlfif/ports.py), for tests about the router's and the CLI's
decisions; the S3 adapter itself is tested against moto (tests/integration/
test_webhook_secrets_store.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tlfif.errors import WebhookStoreError
from tlfif.webhook_contracts import WebhookProfile


@dataclass
class WebhookSecretsDouble:
    profiles: dict[str, WebhookProfile] = field(default_factory=dict)
    writes: int = 0
    failing: bool = False  # every call raises WebhookStoreError, as an unreachable S3 would

    async def get_profile(self, sub: str) -> WebhookProfile | None:
        self._check()
        return self.profiles.get(sub)

    async def put_profile(self, sub: str, profile: WebhookProfile) -> None:
        self._check()
        self.writes += 1
        self.profiles[sub] = profile

    async def update_profile(
        self, sub: str, change: Callable[[WebhookProfile | None], WebhookProfile]
    ) -> WebhookProfile:
        # No await between the read and the write: nothing can race it on one event loop.
        self._check()
        current = self.profiles.get(sub)
        wanted = change(current)
        if wanted != current:
            self.writes += 1
            self.profiles[sub] = wanted
        return wanted

    def _check(self) -> None:
        if self.failing:
            raise WebhookStoreError("S3 GetObject of webhook-secrets/... failed: the double fails")
