"""The rules of a user's webhook profile (ADR 0031): made on first need, a rotate keeps the
text setting, and the router's submit and GET /webhook-secret make it the same way."""

from __future__ import annotations

from tlfif.contracts import now_ms
from tlfif.ports import WebhookSecrets
from tlfif.webhook_contracts import WebhookProfile, new_secret


def new_profile(*, include_text: bool = False) -> WebhookProfile:
    return WebhookProfile(secret=new_secret(), include_text=include_text, rotated_ms=now_ms())


def existing_or_new(found: WebhookProfile | None) -> WebhookProfile:
    return found if found is not None else new_profile()


def rotated(found: WebhookProfile | None) -> WebhookProfile:
    return new_profile(include_text=found.include_text if found is not None else False)


async def ensure_profile(store: WebhookSecrets, sub: str) -> WebhookProfile:
    """The user's profile, made and kept if they have none."""
    return await store.update_profile(sub, existing_or_new)
