"""AwsTinyLlamaClient: the BackendClient over TL-FIF's own API (router, queue, GPU node).

A thin layer on tlfif.client.api.ApiClient, which already refreshes the token and retries
once on a 401; this module only turns its answers and TlfifErrors into the GUI's terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gui.backend import AWS_TINYLLAMA, Answer, Fleet, Ticket, Waiting
from gui.backend_errors import (
    BackendAuthError,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendTransient,
    ReplyFailed,
)
from gui.log import log_event
from tlfif import errors
from tlfif.client.api import ApiClient
from tlfif.client.errors import ServiceUnavailable, ServiceUnreachable
from tlfif.client.failures import Remedies, Where, describe
from tlfif.client.live import LiveEnded, LiveListener, follow_reply
from tlfif.client.phase import accepted_note, phase_of_accepted, phase_of_pending
from tlfif.contracts import (
    Cancelling,
    CostView,
    InferRequest,
    Message,
    NodePhase,
    Pending,
    Reply,
)

# "Not now" answers about a request that may simply be tried again later.
BUSY = (errors.Throttled, errors.QueueUnavailable, errors.NodeStartRefused, errors.NodeControlError)
BUSY_CODES = frozenset({"reply_store_unavailable"})
# The shared failure table's remedies as the window says them: sending again logs in.
WINDOW_REMEDIES = Remedies(
    login="send again to log in",
    login_again="send again to log in",
    retry_login="send again to log in",
    list_jobs="the prompt was not found; send it again",
    lift_budget="lift it with `tlfif budget resume`",
    status="the window keeps waiting",
    fetch_later=lambda job_id: f"`tlfif result {job_id} --wait` fetches it later",
)


class AwsTinyLlamaClient:
    name = AWS_TINYLLAMA
    can_stop = True
    has_cost = True
    can_wake = True
    can_cancel = True

    def __init__(self, api: ApiClient, *, local: bool) -> None:
        self._api = api
        self._where = Where(local=local, remedies=WINDOW_REMEDIES)

    def send_prompt(self, messages: list[Message], *, idle_minutes: int, key: str) -> Ticket:
        with self._translated():
            # stream: the node also sends the text while it generates (stream_response).
            request = InferRequest(messages=messages, idle=idle_minutes, stream=True)
            # The same key on every retry: the router queues (and the GPU answers) once.
            accepted = self._api.submit(request, idempotency_key=key)
        return Ticket(
            backend=self.name,
            id=accepted.id,
            phase=phase_of_accepted(accepted),
            messages=tuple(messages),
            note=accepted_note(accepted),
        )

    def get_response(self, ticket: Ticket, *, wait_seconds: int) -> Answer | Waiting:
        with self._translated():
            answer = self._api.result(ticket.id, wait=wait_seconds)
        if not isinstance(answer, Reply):
            return Waiting(phase_of_pending(answer), node=answer.node)
        return self._answer(answer)

    def stream_response(
        self, ticket: Ticket, listener: LiveListener, *, deadline: float
    ) -> Answer | None:
        with self._translated():
            found, _ = follow_reply(self._api, ticket.id, listener, deadline=deadline)
        if isinstance(found, LiveEnded):
            log_event("live_ended", self.name, reason=found.reason)
            return None
        return self._answer(found)

    def cancel(self, ticket: Ticket) -> Answer | None:
        with self._translated():
            try:
                cancelled: Reply | Cancelling | Pending = self._api.cancel(ticket.id)
            except errors.AlreadyAnswered:
                # The reply landed before the cancel (409): it stands, and is the answer.
                cancelled = self._api.result(ticket.id, wait=0)
        if not isinstance(cancelled, Reply):
            return None  # cancelling, or (past a 409) not readable yet: the wait reads it
        return self._answer(cancelled)

    def _answer(self, reply: Reply) -> Answer:
        if reply.status == "cancelled":
            return Answer(
                text=reply.text, model=reply.model, latency_ms=reply.latency_ms, stopped=True
            )
        if reply.status != "done":
            why = reply.error or "no reason given"
            raise ReplyFailed(self.name, f"the reply is {reply.status}: {why}")
        return Answer(text=reply.text, model=reply.model, latency_ms=reply.latency_ms)

    def stop(self) -> NodePhase:
        with self._translated():
            return self._api.stop().node

    def wake(self, idle_minutes: int) -> NodePhase:
        with self._translated():
            status = self._api.status()
            if status.hold is not None:
                # Typing is no prompt: the owner's Stop GPU (or the budget's hold) stays in
                # force, where the owner's POST /wake would lift a manual hold (ADR 0029).
                return status.node
            return self._api.wake(idle_minutes).node

    def cost(self) -> CostView:
        with self._translated():
            return self._api.cost()

    def fleet(self) -> Fleet:
        with self._translated():
            status = self._api.status()
        return Fleet(phase=status.node, nodes=tuple(status.nodes))

    def close(self) -> None:
        self._api.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except errors.TlfifError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: errors.TlfifError) -> BackendError:
        line = describe(exc, self._where).line
        if isinstance(exc, ServiceUnreachable | ServiceUnavailable):
            # 502/504 from the gateway, a Lambda's cold start, a refused connection.
            return BackendTransient(self.name, line)
        if isinstance(exc, BUSY) or exc.code in BUSY_CODES:
            return BackendBusy(self.name, line, retry_after=exc.retry_after)
        if isinstance(exc, errors.TokenInvalid):
            return BackendAuthError(self.name, line)
        return BackendRefused(self.name, line)
