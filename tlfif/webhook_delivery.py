"""Calling a webhook (ADR 0031): the signed POST, to the address just checked, redirects
off, a bounded number of tries with a doubling wait between them.

Each try checks the host again (webhook_targets.check) and connects to the address it
checked, with TLS verified for the host's name: a host whose DNS answer changes to a
private address between tries, or since the request was submitted, is refused, not called.
The reply is in S3 before any of this starts; nothing here can change or delay it.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from tlfif.contracts import Reply, now_ms
from tlfif.webhook_contracts import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookBody,
    WebhookProfile,
    sign,
)
from tlfif.webhook_targets import Resolver, WebhookRefused, check

Outcome = Literal["delivered", "refused", "rejected", "failed"]
# A receiver answering these may do better on a later try; any other 4xx, and a redirect
# (never followed), ends the delivery.
RETRY_STATUSES = frozenset({408, 425, 429})
# The scheme's version, as in the signature's "v1=": a receiver may route on it.
USER_AGENT = "tlfif-webhook/1"


@dataclass(frozen=True)
class Delivery:
    """How a webhook went. `outcome`: delivered (a 2xx); refused (its address may not be
    called); rejected (a 3xx or 4xx the receiver will answer again); failed (every try
    timed out, could not connect or got a 5xx). `detail` is for the logs."""

    outcome: Outcome
    attempts: int
    status: int | None
    detail: str
    delivered_ms: int | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts: int
    backoff_seconds: float
    timeout_seconds: float
    allow_loopback: bool


def webhook_body(reply: Reply, reply_key: str, attempt: int, *, include_text: bool) -> bytes:
    body = WebhookBody(
        id=reply.id,
        status=reply.status,
        reply_key=reply_key,
        finish_reason=reply.finish_reason,
        error_code=reply.error_code,
        usage=reply.usage,
        queued_ms=reply.queued_ms,
        latency_ms=reply.latency_ms,
        finished_ms=reply.finished_ms,
        sent_ms=now_ms(),
        attempt=attempt,
        text=reply.text if include_text else None,
    )
    return json.dumps(body.model_dump(mode="json", exclude_none=True)).encode("utf-8")


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's trust store (certifi's, as httpx uses), plus `ca_file`'s CAs if given."""
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class WebhookCaller:
    """Sends one reply's webhook: `deliver` returns how it went and never raises."""

    def __init__(
        self,
        policy: DeliveryPolicy,
        resolve: Resolver,
        tls: ssl.SSLContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._policy = policy
        self._resolve = resolve
        self._tls = tls
        self._sleep = sleep

    def deliver(self, url: str, reply: Reply, reply_key: str, profile: WebhookProfile) -> Delivery:
        policy = self._policy
        last = Delivery("failed", 0, None, "not tried")
        with httpx.Client(
            verify=self._tls,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment between us and the checked address
            timeout=policy.timeout_seconds,
        ) as client:
            for attempt in range(1, policy.attempts + 1):
                if attempt > 1:
                    self._sleep(policy.backoff_seconds * 2 ** (attempt - 2))
                body = webhook_body(reply, reply_key, attempt, include_text=profile.include_text)
                last = self._try(client, url, body, reply.id, profile.secret, attempt)
                if last.outcome != "failed":
                    return last
        return last

    def _try(
        self, client: httpx.Client, url: str, body: bytes, job_id: str, secret: str, attempt: int
    ) -> Delivery:
        try:
            target = check(url, self._resolve, allow_loopback=self._policy.allow_loopback)
        except WebhookRefused as exc:
            return Delivery("refused", attempt, None, exc.message)
        timestamp = int(time.time())
        headers = {
            "Host": target.host_header(),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: "reply",
            DELIVERY_HEADER: job_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        request = client.build_request(
            "POST",
            target.connect_url(),
            content=body,
            headers=headers,
            extensions={"sni_hostname": target.host},
        )
        try:
            # Its status is all a receiver has to say: the body is never read, so a large
            # or slow one costs neither memory nor time.
            response = client.send(request, stream=True)
            response.close()
        except httpx.HTTPError as exc:
            return Delivery("failed", attempt, None, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            return Delivery("delivered", attempt, status, "delivered", delivered_ms=now_ms())
        if status >= 500 or status in RETRY_STATUSES:
            return Delivery("failed", attempt, status, f"the receiver answered {status}")
        why = "a redirect, which is never followed" if 300 <= status < 400 else "refused by it"
        return Delivery("rejected", attempt, status, f"the receiver answered {status}: {why}")
