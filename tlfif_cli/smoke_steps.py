"""`tlfif smoke`'s steps against one stack: probes, an optional stop first, a prompt followed
through its phases, and a stop timed until EC2 says stopping. Each fills the record.

The prompt is followed on its live events stream first. A stream counts as live when its
first event came at once (the router sends the node's phase as the stream opens) and its
events did not all come in one burst; a stream held back by the transport (API Gateway
buffers every response, ADR 0028) delivers everything together with its end, so its times
are no measurement: only its reply is taken, the first token stays null, and the phases are
read from polls of GET /result from then on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tlfif.client.api import RETRYABLE_WHILE_WAITING, ApiClient
from tlfif.client.errors import LiveTextUnavailable, WaitTimedOut
from tlfif.client.events import (
    REPLY_PENDING,
    JobEvent,
    PhaseEvent,
    ReplyEvent,
    StreamError,
    TokenEvent,
)
from tlfif.client.live import BUFFERED_AFTER_SECONDS
from tlfif.contracts import InferRequest, NodePhase, NodeStatus, Reply
from tlfif.errors import TlfifError
from tlfif_cli.smoke_record import NODE_UP, Phases, SmokeRecord, seconds

# Events of one burst: a buffered body is parsed in well under a millisecond; a live
# stream's phase comes as it opens, its reply after a generation (hundreds of ms at least).
BURST_SECONDS = 0.05
# Each poll of /result holds this long at most: the phase changes show within about a
# second, and a client with a key stays within the key route's 1 request a second on AWS.
POLL_WAIT_SECONDS = 1
# --stop-first waits this long for the node to be stopped (a GPU instance's stop, on AWS).
STOP_FIRST_TIMEOUT_SECONDS = 300.0
# The final stop is given up after this, or twice the stop limit if that is longer.
STOP_WAIT_SECONDS = 60.0
# Polls of /status at least this far apart: the key route's steady rate on AWS (ADR 0027).
STATUS_INTERVAL_SECONDS = 1.0
DOWN: frozenset[NodePhase] = frozenset({"stopping", "stopped"})


def fleet_down(status: NodeStatus, phases: frozenset[NodePhase] = DOWN) -> bool:
    """The fleet's word and every node's (ADR 0032) are in `phases`."""
    return status.node in phases and all(node.phase in phases for node in status.nodes)


@dataclass
class PhaseClock:
    """The first time each phase of the prompt was seen, as seconds since the submit."""

    submitted: float
    phases: Phases = field(default_factory=Phases)

    def node(self, at: float, node: NodePhase, *, running: bool = False) -> None:
        since = seconds(at - self.submitted)
        if self.phases.node_running is None and (node in NODE_UP or running):
            self.phases.node_running = since
        if self.phases.engine_ready is None and (node == "ready" or running):
            self.phases.engine_ready = since

    def token(self, at: float) -> None:
        self.node(at, "ready", running=True)  # text comes from a running job
        if self.phases.first_token is None:
            self.phases.first_token = seconds(at - self.submitted)


@dataclass
class SmokeSteps:
    api: ApiClient
    record: SmokeRecord
    min_interval_seconds: float
    wait_timeout_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def stop_first(self) -> None:
        """POST /stop, then wait until every node is stopped: the prompt starts cold."""
        self.api.stop()
        status = self._wait_status(
            lambda status: fleet_down(status, frozenset({"stopped"})), STOP_FIRST_TIMEOUT_SECONDS
        )
        if status is None or not fleet_down(status, frozenset({"stopped"})):
            last = status.node if status else "unknown"
            raise SmokeStepFailed(
                f"the node was not stopped within {STOP_FIRST_TIMEOUT_SECONDS:g} s "
                f"(last seen {last})"
            )
        self.record.cold = True

    def prompt(self, text: str, max_tokens: int) -> Reply:
        if self.record.cold is None:
            # Stopping counts: the prompt waits for the stop, then for a whole start.
            self.record.cold = self.api.status().node in DOWN
        request = InferRequest(prompt=text, max_tokens=max_tokens, temperature=0, stream=True)
        clock = PhaseClock(self.clock())
        try:
            accepted = self.api.submit(request, idempotency_key=str(uuid.uuid4()))
            clock.phases.accepted = seconds(self.clock() - clock.submitted)
            reply = self._follow(accepted.id, clock)
            clock.phases.reply = seconds(self.clock() - clock.submitted)
        finally:
            self.record.phases = clock.phases
        self.record.reply.status = reply.status
        self.record.reply.completion_tokens = reply.usage.completion_tokens
        return reply

    def stop(self, limit: float) -> None:
        sent = self.clock()
        stopping = self.api.stop()
        self.record.stop.accepted = seconds(self.clock() - sent)
        if stopping.node in DOWN:  # the router's EC2 state, cached from StopInstances
            self.record.stop.stopping = self.record.stop.accepted
            return
        bound = max(STOP_WAIT_SECONDS, 2 * limit)
        status = self._wait_status(fleet_down, bound)
        if status is None or not fleet_down(status):
            last = status.node if status else "unknown"
            raise SmokeStepFailed(f"EC2 did not say stopping within {bound:g} s (last {last})")
        self.record.stop.stopping = seconds(self.clock() - sent)

    def _wait_status(self, done: Callable[[NodeStatus], bool], timeout: float) -> NodeStatus | None:
        deadline = self.clock() + timeout
        status: NodeStatus | None = None
        interval = max(self.min_interval_seconds, STATUS_INTERVAL_SECONDS)
        while self.clock() < deadline:
            asked = self.clock()
            try:
                status = self.api.status()
            except RETRYABLE_WHILE_WAITING as exc:
                self.sleep(float(exc.retry_after or interval))
                continue
            if done(status):
                return status
            self.sleep(max(0.0, interval - (self.clock() - asked)))
        return status

    def _follow(self, job_id: str, clock: PhaseClock) -> Reply:
        deadline = clock.submitted + self.wait_timeout_seconds
        live = True
        while self.clock() < deadline:
            if live:
                reply, live = self._one_stream(job_id, clock)
            else:
                reply = self._one_poll(job_id, clock)
            if reply is not None:
                return reply
        raise WaitTimedOut(f"no reply within {self.wait_timeout_seconds:g} s", job_id=job_id)

    def _one_stream(self, job_id: str, clock: PhaseClock) -> tuple[Reply | None, bool]:
        """The reply if this stream carried it, and whether to follow the stream again."""
        opened = self.clock()
        arrivals: list[tuple[float, JobEvent]] = []
        try:
            for event in self.api.job_events(job_id):
                arrivals.append((self.clock(), event))
                if isinstance(event, ReplyEvent | StreamError):
                    break
        except (LiveTextUnavailable, *RETRYABLE_WHILE_WAITING):
            pass  # polling takes over; the job is untouched
        live = bool(arrivals) and is_live(opened, [at for at, _ in arrivals])
        reply: Reply | None = None
        again = False
        for at, event in arrivals:
            if isinstance(event, ReplyEvent):
                reply = event.reply
            elif isinstance(event, StreamError):
                again = live and event.code == REPLY_PENDING
            elif live and isinstance(event, PhaseEvent):
                clock.node(at, event.node)
            elif live and isinstance(event, TokenEvent) and event.text:
                clock.token(at)
        return reply, again

    def _one_poll(self, job_id: str, clock: PhaseClock) -> Reply | None:
        asked = self.clock()
        try:
            answer = self.api.result(job_id, wait=POLL_WAIT_SECONDS)
        except RETRYABLE_WHILE_WAITING as exc:
            self.sleep(float(exc.retry_after or 1))
            return None
        if isinstance(answer, Reply):
            return answer
        clock.node(self.clock(), answer.node, running=answer.status == "running")
        self.sleep(max(0.0, self.min_interval_seconds - (self.clock() - asked)))
        return None


def is_live(opened: float, arrived: list[float]) -> bool:
    """Whether a stream's events came as they happened: the first at once, and not all of
    them in one burst (a lone event is judged by its promptness alone)."""
    if not arrived or arrived[0] - opened > BUFFERED_AFTER_SECONDS:
        return False
    return len(arrived) == 1 or arrived[-1] - arrived[0] >= BURST_SECONDS


class SmokeStepFailed(TlfifError):
    """A step of the smoke found the stack wrong (not a refused request)."""

    code = "smoke_step_failed"
