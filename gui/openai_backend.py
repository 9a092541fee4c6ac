"""OpenAiApiClient: the BackendClient over the OpenAI API, or any server that speaks it.

Uses the official `openai` package with its own retries off: the GUI's one retry rule
(gui.resilience) applies to both backends alike. There is no GPU node to stop and no AWS
bill to show, so stop() and cost() say NotSupported rather than pretend. Nor is there a
reply to cancel: the answer comes whole from one call (not streamed), so the window offers
no Stop while it waits (cancel() says NotSupported).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gui.backend import OPENAI, Answer, Fleet, Ticket, Waiting
from gui.backend_errors import (
    BackendAuthError,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendTransient,
    NotSupported,
    ReplyFailed,
)
from tlfif.contracts import CostView, Message, NodePhase

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

OFFICIAL_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
# Statuses that mean "the server is not up yet" rather than "your request is wrong".
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 120.0
# A local OpenAI-compatible server (llama.cpp, vLLM) ignores the key, but the package
# insists on one; api.openai.com never gets this.
KEYLESS_PLACEHOLDER = "no-key-needed"


class OpenAiApiClient:
    name = OPENAI
    can_stop = False
    has_cost = False
    can_wake = False
    can_cancel = False

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: Callable[[], str | None],
        http_client: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._http_client = http_client
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    def send_prompt(self, messages: list[Message], *, idle_minutes: int, key: str) -> Ticket:
        # Nothing to queue: the call itself happens in get_response, shown as "generating".
        # idle_minutes is for the GPU node, which this backend does not have.
        return Ticket(
            backend=self.name,
            id=f"openai-{uuid.uuid4()}",
            phase="generating",
            messages=tuple(messages),
        )

    def get_response(self, ticket: Ticket, *, wait_seconds: int) -> Answer | Waiting:
        client = self._openai()
        started = time.monotonic()
        with self._translated():
            completion = client.chat.completions.create(
                model=self.model,
                messages=[_openai_message(m) for m in ticket.messages],
            )
        if not completion.choices:
            raise ReplyFailed(self.name, "the answer held no choices")
        choice = completion.choices[0]
        if choice.finish_reason is None:
            raise ReplyFailed(self.name, "the answer ended without a finish_reason")
        return Answer(
            text=choice.message.content or "",
            model=completion.model,
            latency_ms=int((time.monotonic() - started) * 1000),
        )

    def cancel(self, ticket: Ticket) -> Answer | None:
        raise NotSupported(self.name, "a reply cannot be stopped once asked for")

    def stop(self) -> NodePhase:
        raise NotSupported(self.name, "there is no GPU node to stop")

    def wake(self, idle_minutes: int) -> NodePhase:
        raise NotSupported(self.name, "there is no GPU node to wake")

    def cost(self) -> CostView:
        raise NotSupported(self.name, "no cost figure (the OpenAI bill is not visible here)")

    def fleet(self) -> Fleet:
        raise NotSupported(self.name, "there is no GPU node")

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _openai(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> openai.OpenAI:
        # Imported here: the package takes ~0.6 s to import, and many users never pick it.
        import openai

        key = self._api_key()
        if not key:
            if self.base_url == OFFICIAL_BASE_URL:
                raise BackendAuthError(
                    self.name,
                    "no API key: set OPENAI_API_KEY, store it in the keyring "
                    "(keyring set tl-fif openai_api_key) or put api_key in ~/.tl-fif.ini",
                )
            key = KEYLESS_PLACEHOLDER
        return openai.OpenAI(
            api_key=key,
            base_url=self.base_url,
            max_retries=0,
            timeout=openai.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
            http_client=self._http_client,
        )

    @contextmanager
    def _translated(self) -> Iterator[None]:
        import openai

        try:
            yield
        except openai.APIConnectionError as exc:  # includes timeouts
            raise BackendTransient(self.name, f"cannot reach {self.base_url} ({exc})") from exc
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc

    def _status_error(self, exc: openai.APIStatusError) -> BackendError:
        status = exc.status_code
        said = f"HTTP {status} from {self.base_url}: {_message(exc)}"
        if status in TRANSIENT_STATUSES:
            return BackendTransient(self.name, said)
        if status in (401, 403):
            return BackendAuthError(self.name, said)
        # insufficient_quota comes as a 429 too, but waiting does not fix it.
        if status == 429 and exc.code != "insufficient_quota":
            return BackendBusy(self.name, said, retry_after=_retry_after(exc))
        return BackendRefused(self.name, said)


def _openai_message(message: Message) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def _retry_after(exc: openai.APIStatusError) -> int | None:
    value = exc.response.headers.get("retry-after", "")
    return int(value) if value.strip().isdigit() else None
