"""`tlfif smoke`'s one record and the limits it is judged by (no I/O here).

Every time is seconds on the client's monotonic clock: the prompt's phases since POST
/infer was sent, the stop's since POST /stop was sent. A phase not reached, or not
measurable on this stack (a first token the transport held back until the reply), is null.
The record carries no prompt text and no reply text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tlfif.contracts import NodePhase

# The node is up (the instance runs) from its first heartbeat on, or once EC2 says running.
NODE_UP: frozenset[NodePhase] = frozenset({"booting", "loading", "ready", "engine_restarting"})


class QueueHealthCheck(BaseModel):
    ok: bool | None = None
    ms: float | None = None


class Phases(BaseModel):
    accepted: float | None = None  # POST /infer answered 202
    node_running: float | None = None  # first seen booting, loading or ready, or the job running
    engine_ready: float | None = None  # first seen ready, or the job running
    first_token: float | None = None  # first text delta of a live stream; null if none
    reply: float | None = None  # the whole reply in hand


class ReplyFacts(BaseModel):
    status: str | None = None
    completion_tokens: int | None = None


class StopTimes(BaseModel):
    accepted: float | None = None  # POST /stop answered
    stopping: float | None = None  # GET /status says every node is stopping or stopped


class Limits(BaseModel):
    first_token: float
    stop: float
    # The first token where it was measured, else the whole reply: on a stack that cannot
    # stream (API Gateway buffers), the reply is the first text the caller gets.
    first_token_measured_on: Literal["first_token", "reply"] | None = None


class SmokeRecord(BaseModel):
    version: str
    profile: str
    started_at: str
    cold: bool | None = None  # the node was stopped (or stopping) when the prompt went in
    ping_ms: float | None = None
    queue_health: QueueHealthCheck = Field(default_factory=QueueHealthCheck)
    phases: Phases = Field(default_factory=Phases)
    reply: ReplyFacts = Field(default_factory=ReplyFacts)
    stop: StopTimes = Field(default_factory=StopTimes)
    limits: Limits
    failures: list[str] = []
    ok: bool = False


def judge(record: SmokeRecord) -> SmokeRecord:
    """The record with the limits applied: a failure for each limit passed, and `ok`."""
    failures = list(record.failures)
    limits = record.limits.model_copy()
    phases = record.phases
    if record.reply.status == "done":
        on: Literal["first_token", "reply"] = (
            "first_token" if phases.first_token is not None else "reply"
        )
        took = phases.first_token if on == "first_token" else phases.reply
        limits.first_token_measured_on = on
        if took is not None and took > limits.first_token:
            failures.append(
                f"first-token limit passed: {'first token' if on == 'first_token' else 'reply'} "
                f"after {took:.3f} s, the limit is {limits.first_token:g} s"
            )
    for what, took in (("accepted", record.stop.accepted), ("stopping", record.stop.stopping)):
        if took is not None and took > limits.stop:
            failures.append(
                f"stop limit passed: stop {what} after {took:.3f} s, the limit is {limits.stop:g} s"
            )
    return record.model_copy(update={"limits": limits, "failures": failures, "ok": not failures})


def seconds(value: float) -> float:
    """Times as the record keeps them: milliseconds are plenty for a cold start."""
    return round(value, 3)
