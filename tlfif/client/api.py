"""A typed, synchronous client of the router's HTTP API, shared by the CLI and the GUI.

Every failure comes back as a TlfifError subclass (tlfif/client/error_responses.py); a 401 refreshes
the token and retries once, as the contract asks of clients.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tlfif import errors
from tlfif.api_key_contracts import KeyCreated, KeyList, KeyRevoked
from tlfif.client.error_responses import error_from_response
from tlfif.client.errors import (
    LiveTextUnavailable,
    ServiceUnavailable,
    ServiceUnreachable,
    UnexpectedResponse,
    WaitTimedOut,
)
from tlfif.client.events import JobEvent, parse_events
from tlfif.contracts import (
    Accepted,
    BudgetResumed,
    Cancelling,
    CostView,
    InferRequest,
    NodeStatus,
    Pending,
    Reply,
    Stopping,
    WakeRequest,
    Woken,
)
from tlfif.errors import TlfifError
from tlfif.usage_contracts import UsageView
from tlfif.webhook_contracts import WebhookProfile, WebhookSettingsRequest, WebhookSettingsView

# The router caps ?wait at 25 s so a long poll stays inside API Gateway's 30 s limit.
MAX_WAIT_SECONDS = 25
CONNECT_TIMEOUT_SECONDS = 5.0
# Beyond ?wait: the router's own checks plus a Lambda cold start.
READ_MARGIN_SECONDS = 15.0
# POST /cancel/{id} waits for a running job's node to stop it (TLFIF_ROUTER_CANCEL_WAIT_SECONDS
# at most 20 s).
CANCEL_READ_TIMEOUT_SECONDS = 20 + READ_MARGIN_SECONDS
# Failures that say "not now" about a job that is queued already: waiting continues.
RETRYABLE_WHILE_WAITING = (errors.Throttled, errors.QueueUnavailable, ServiceUnavailable)
# The pause after a "not now" that named no Retry-After.
DEFAULT_RETRY_SECONDS = 5
# A request that may have reached the router before the connection broke.
MAYBE_SENT = (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError)
# An events stream is silent at most the router's keep-alive (10 s) while it is live; where
# the transport buffers it (API Gateway), its first byte comes after the 25 s hold.
EVENTS_READ_TIMEOUT_SECONDS = MAX_WAIT_SECONDS + READ_MARGIN_SECONDS
# No events route (an older router) or the job unknown: either way polling says which.
NO_EVENTS_STATUSES = frozenset({404, 405})

Model = TypeVar("Model", bound=BaseModel)


class TokenSource(Protocol):
    """tlfif.client.session.Session, or anything else that hands out access tokens."""

    def access_token(self, *, force_refresh: bool = False) -> str: ...


class ApiClient:
    """POST /infer, GET /result/{id}, POST /cancel/{id}, POST /stop, POST /wake, GET /status,
    GET /cost, POST /budget/resume, the owner's API keys (/keys) and the caller's webhook
    secret and setting."""

    def __init__(
        self,
        api_url: str,
        tokens: TokenSource,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._tokens = tokens
        self._http = httpx.Client(
            base_url=self.api_url,
            transport=transport,
            headers={"User-Agent": f"tlfif/{client_version()}"},
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def submit(self, request: InferRequest, *, idempotency_key: str | None = None) -> Accepted:
        """Queue a prompt. With a key, a retry after a lost answer returns the same job."""
        body = request.model_dump(mode="json", exclude_none=True)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        # Only a keyed submit is retried after a broken connection: without the key the
        # router could queue (and the GPU answer) the prompt twice.
        response = self._send(
            "POST", "/infer", json=body, headers=headers, resend=idempotency_key is not None
        )
        return _parse(Accepted, response)

    def result(self, job_id: str, *, wait: int = 0) -> Reply | Pending:
        """The reply if it exists, else where the job is. `wait` long-polls (capped at 25 s)."""
        wait = max(0, min(wait, MAX_WAIT_SECONDS))
        response = self._send(
            "GET",
            f"/result/{job_id}",
            params={"wait": wait} if wait else None,
            read_timeout=wait + READ_MARGIN_SECONDS,
        )
        if response.status_code == 202:
            return _parse(Pending, response)
        return _parse(Reply, response)

    def cancel(self, job_id: str) -> Reply | Cancelling:
        """Cancel a job: its "cancelled" reply (the text so far, for a running one), or
        Cancelling when its node has not stopped it yet. AlreadyAnswered (409) when its
        reply came first, JobNotFound for an id that is not the caller's."""
        response = self._send(
            "POST", f"/cancel/{job_id}", resend=True, read_timeout=CANCEL_READ_TIMEOUT_SECONDS
        )
        if response.status_code == 202:
            return _parse(Cancelling, response)
        return _parse(Reply, response)

    def job_events(self, job_id: str) -> Iterator[JobEvent]:
        """GET /result/{id}/events, each event as it arrives; closing the iterator closes
        the stream. Raises LiveTextUnavailable when there is no stream to read (no such
        route, 404 or 405) or it breaks; other refusals as the other calls do."""
        for force_refresh in (False, True):
            token = self._tokens.access_token(force_refresh=force_refresh)
            try:
                with self._http.stream(
                    "GET",
                    f"/result/{job_id}/events",
                    headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
                    timeout=httpx.Timeout(
                        EVENTS_READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS
                    ),
                ) as response:
                    if response.status_code == 401 and not force_refresh:
                        continue  # the contract: refresh the token, retry once
                    if response.status_code in NO_EVENTS_STATUSES:
                        raise LiveTextUnavailable(f"no live events for {job_id} here")
                    if response.status_code >= 400:
                        response.read()
                        raise error_from_response(response)
                    yield from parse_events(response.iter_lines())
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self._unreachable() from None
            except httpx.HTTPError as exc:
                raise LiveTextUnavailable(
                    f"the live stream of {job_id} broke ({type(exc).__name__})"
                ) from None

    def wait_for_reply(
        self,
        job_id: str,
        *,
        on_pending: Callable[[Pending], None] | None = None,
        on_retry: Callable[[TlfifError, float], None] | None = None,
        poll_seconds: int = 20,
        timeout_seconds: float = 900.0,
        min_interval_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Reply:
        """Long-poll until the reply exists. Every job gets one, so this ends.

        Raises WaitTimedOut after `timeout_seconds`; the job itself is not cancelled.
        """
        deadline = time.monotonic() + timeout_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            started = time.monotonic()
            try:
                answer = self.result(job_id, wait=int(min(poll_seconds, max(1.0, remaining))))
            except RETRYABLE_WHILE_WAITING as exc:
                after = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_SECONDS
                pause = min(float(after), max(0.0, remaining))
                if on_retry is not None:
                    on_retry(exc, pause)
                sleep(pause)
                continue
            if isinstance(answer, Reply):
                return answer
            if on_pending is not None:
                on_pending(answer)
            # Never a tight loop, even against a server that answers a long poll at once.
            pause = min_interval_seconds - (time.monotonic() - started)
            if pause > 0:
                sleep(pause)
        raise WaitTimedOut(f"no reply for {job_id} within {timeout_seconds:.0f} s", job_id=job_id)

    def stop(self) -> Stopping:
        return _parse(Stopping, self._send("POST", "/stop"))

    def wake(self, idle: int | None = None) -> Woken:
        """POST /wake: start the node ahead of a prompt; `idle` minutes then apply if none
        comes (the router's default without)."""
        asked = WakeRequest() if idle is None else WakeRequest(idle=idle)
        body = asked.model_dump(mode="json", exclude_unset=True)
        return _parse(Woken, self._send("POST", "/wake", json=body))

    def status(self) -> NodeStatus:
        return _parse(NodeStatus, self._send("GET", "/status"))

    def resume_budget(self) -> BudgetResumed:
        return _parse(BudgetResumed, self._send("POST", "/budget/resume"))

    def create_key(self, name: str) -> KeyCreated:
        """A new API key (POST /keys, the owner only); its secret is in this answer alone."""
        return _parse(KeyCreated, self._send("POST", "/keys", json={"name": name}))

    def list_keys(self) -> KeyList:
        return _parse(KeyList, self._send("GET", "/keys"))

    def revoke_key(self, id_or_name: str) -> KeyRevoked:
        path = "/keys/" + urllib.parse.quote(id_or_name, safe="")
        return _parse(KeyRevoked, self._send("DELETE", path))

    def webhook_secret(self) -> WebhookProfile:
        """The caller's webhook secret and setting (GET /webhook-secret), made on first use."""
        return _parse(WebhookProfile, self._send("GET", "/webhook-secret"))

    def rotate_webhook_secret(self) -> WebhookProfile:
        """A new webhook secret (POST /webhook-secret/rotate); the old one stops at once."""
        return _parse(WebhookProfile, self._send("POST", "/webhook-secret/rotate"))

    def set_webhook_text(self, include_text: bool) -> WebhookSettingsView:
        """Whether deliveries carry the reply's text (PUT /webhook-settings)."""
        asked = WebhookSettingsRequest(include_text=include_text)
        response = self._send("PUT", "/webhook-settings", json=asked.model_dump(mode="json"))
        return _parse(WebhookSettingsView, response)

    def cost(self) -> CostView:
        """Month-to-date spend as billed, and the live estimate (GET /cost)."""
        return _parse(CostView, self._send("GET", "/cost"))

    def usage(self, month: str | None = None) -> UsageView:
        """A month's estimated usage (GET /usage): the caller's, or everyone's for the owner."""
        params: dict[str, int | str] | None = {"month": month} if month is not None else None
        return _parse(UsageView, self._send("GET", "/usage", params=params))

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, int | str] | None = None,
        headers: dict[str, str] | None = None,
        resend: bool = False,
        read_timeout: float = READ_MARGIN_SECONDS,
    ) -> httpx.Response:
        def build(token: str) -> httpx.Request:
            return self._http.build_request(
                method,
                path,
                json=json,
                params=params,
                headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT_SECONDS),
            )

        response = self._attempt(build, resend, force_refresh=False)
        if response.status_code == 401:
            # The contract: refresh the token, retry once; a second 401 is final.
            response = self._attempt(build, resend, force_refresh=True)
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def _unreachable(self) -> ServiceUnreachable:
        return ServiceUnreachable(
            f"cannot reach the TL-FIF API at {self.api_url}",
            service="the TL-FIF API",
            url=self.api_url,
        )

    def _attempt(
        self, build: Callable[[str], httpx.Request], resend: bool, *, force_refresh: bool
    ) -> httpx.Response:
        request = build(self._tokens.access_token(force_refresh=force_refresh))
        for attempt in (1, 2):
            try:
                return self._http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self._unreachable() from None
            except MAYBE_SENT as exc:
                if resend and attempt == 1:
                    continue
                raise ServiceUnavailable(
                    f"the TL-FIF API at {self.api_url} did not answer ({type(exc).__name__})"
                ) from None
            except httpx.HTTPError as exc:
                raise ServiceUnavailable(f"request to {self.api_url} failed: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover


def _parse(model: type[Model], response: httpx.Response) -> Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise UnexpectedResponse(
            f"{response.request.method} {response.request.url.path} answered "
            f"HTTP {response.status_code} with a body the contract does not describe: "
            f"{exc.errors(include_url=False)[0]['msg']}"
        ) from None


def client_version() -> str:
    """The installed tlfif version, for the User-Agent and `tlfif --version`."""
    try:
        return version("tlfif")
    except PackageNotFoundError:
        return "dev"
