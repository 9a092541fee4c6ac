"""GET /webhook-secret, POST /webhook-secret/rotate, PUT /webhook-settings: each signed-in
user's own webhook secret and setting (ADR 0031).

Any signed-in user, for their own sub only, and never with an API key: a leaked key must
not read the secret that vouches for the user's deliveries, nor turn the reply's text on
in them. The first read makes the profile, so a user never has to "create" one.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, services
from router.inputs import json_body
from tlfif.api_key_contracts import KeyClaims
from tlfif.claims import Claims
from tlfif.contracts import invalid_input
from tlfif.errors import Forbidden, WebhookStoreError
from tlfif.ports import WebhookSecrets
from tlfif.webhook_contracts import WebhookProfile, WebhookSettingsRequest, WebhookSettingsView
from tlfif.webhook_secrets import existing_or_new, rotated

log = logging.getLogger(__name__)


async def show(request: Request) -> Response:
    claims = await _signed_in(request)
    profile = await _store(request).update_profile(claims.sub, existing_or_new)
    return JSONResponse(profile.model_dump(mode="json"))


async def rotate(request: Request) -> Response:
    claims = await _signed_in(request)
    profile = await _store(request).update_profile(claims.sub, rotated)
    # The old secret stops at once: a receiver still on it refuses every delivery.
    log.warning("webhook secret rotated", extra={"sub": claims.sub})
    return JSONResponse(profile.model_dump(mode="json"))


async def change_settings(request: Request) -> Response:
    claims = await _signed_in(request)
    wanted = settings_request(await json_body(request))

    def changed(found: WebhookProfile | None) -> WebhookProfile:
        return existing_or_new(found).model_copy(update={"include_text": wanted.include_text})

    profile = await _store(request).update_profile(claims.sub, changed)
    view = WebhookSettingsView(include_text=profile.include_text, rotated_ms=profile.rotated_ms)
    return JSONResponse(view.model_dump(mode="json"))


def settings_request(body: dict[str, object]) -> WebhookSettingsRequest:
    """PUT /webhook-settings's body, or InvalidInput (400) naming the field. Strict: a
    setting that puts the reply's text in a delivery is a JSON true, not "yes" or 1."""
    try:
        return WebhookSettingsRequest.model_validate(body, strict=True)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None


async def _signed_in(request: Request) -> Claims:
    claims = await caller(request)
    if isinstance(claims, KeyClaims):
        raise Forbidden("a key cannot read or change webhook secrets")
    return claims


def _store(request: Request) -> WebhookSecrets:
    store = services(request).webhook_secrets
    if store is None:
        raise WebhookStoreError("this router was built without a webhook secret store")
    return store
