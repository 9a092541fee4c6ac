"""Following a job's text as it is generated, for the CLI and the GUI alike.

`follow_reply` reads GET /result/{id}/events and tells a LiveListener the phases and the
text of the generation in progress; it ends with the reply, or with LiveEnded when live
events cannot go on (no such route, a broken stream, a transport that buffers it), and
the caller then waits for the reply by polling as before: the reply is in S3 whatever
happened to the stream, and its text, not the streamed one, is the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tlfif.client.api import RETRYABLE_WHILE_WAITING, ApiClient
from tlfif.client.errors import LiveTextUnavailable, WaitTimedOut
from tlfif.client.events import (
    REPLY_PENDING,
    PhaseEvent,
    ReplyEvent,
    ResetEvent,
    StreamError,
    TokenEvent,
)
from tlfif.client.phase import PHASE_OF_NODE, JobPhase
from tlfif.contracts import Reply

# The router sends the node's phase as soon as a stream opens. A first event later than
# this means the transport held the stream back (API Gateway buffers every response): the
# wait goes on by polling, whose answers show each phase as it comes.
BUFFERED_AFTER_SECONDS = 5.0


class LiveListener(Protocol):
    def phase(self, phase: JobPhase) -> None:
        """Where the job is while no text has come."""
        ...

    def text(self, delta: str) -> None:
        """More text of the generation in progress."""
        ...

    def restarted(self) -> None:
        """The generation started over (the job was taken again): the text so far is void;
        what follows is the new generation's, from its start."""
        ...


@dataclass(frozen=True)
class LiveEnded:
    """No more live events for this job; `reason` in words. The job goes on."""

    reason: str


@dataclass
class AttemptText:
    """The text of the generation in progress, as told to the listener.

    Tokens carry their attempt: a new attempt voids the one before (never spliced), and a
    stream followed again replays from the start, so text already told is skipped.
    """

    listener: LiveListener
    attempt: str | None = None
    told: str = ""
    _void: set[str] = field(default_factory=set)
    _seen: int = 0  # characters of this attempt seen in the current stream

    def new_stream(self) -> None:
        self._seen = 0

    def add(self, attempt: str, text: str) -> None:
        if attempt in self._void:
            return  # a replay of text already declared void
        if attempt != self.attempt:
            if self.attempt is not None:
                self._void.add(self.attempt)
                self.listener.restarted()
            self.attempt, self.told, self._seen = attempt, "", 0
        start, self._seen = self._seen, self._seen + len(text)
        fresh = text[max(0, len(self.told) - start) :]
        if fresh:
            self.told += fresh
            self.listener.text(fresh)


def follow_reply(
    api: ApiClient,
    job_id: str,
    listener: LiveListener,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Reply | LiveEnded, AttemptText]:
    """The job's reply (or why live events ended) and the text told on the way.

    A stream whose time ran out (`error` reply_pending: a long cold start) is followed
    again; a "not now" (throttled, the queue or the API down for a moment) ends live events,
    and polling waits it out. Raises WaitTimedOut past `deadline` (the job goes on), and
    what ApiClient raises for a final refusal (a token refused twice, an unreachable API).
    """
    told = AttemptText(listener)
    while clock() < deadline:
        opened = clock()
        first: float | None = None
        told.new_stream()
        try:
            for event in api.job_events(job_id):
                first = clock() if first is None else first
                if isinstance(event, ReplyEvent):
                    return event.reply, told
                if isinstance(event, TokenEvent):
                    told.add(event.attempt, event.text)
                elif isinstance(event, PhaseEvent) and told.attempt is None:
                    listener.phase(PHASE_OF_NODE[event.node])
                elif isinstance(event, StreamError):
                    if event.code != REPLY_PENDING:
                        return LiveEnded(f"the live stream stopped ({event.message})"), told
                    break
                elif isinstance(event, ResetEvent):
                    told.add(event.attempt, "")  # void now, even if no text follows
            else:
                return LiveEnded("the live stream ended before the reply"), told
        except LiveTextUnavailable as exc:
            return LiveEnded(exc.message), told
        except RETRYABLE_WHILE_WAITING as exc:  # "not now": polling waits it out, as ever
            return LiveEnded(f"the live stream was refused ({exc.caller_message})"), told
        if first is None or first - opened > BUFFERED_AFTER_SECONDS:
            return LiveEnded("this stack's gateway holds the live stream back"), told
    raise WaitTimedOut(f"no reply for {job_id} in time", job_id=job_id)
