"""GET /result/{id}/events as a client reads it: the server-sent events, typed.

The router's events (router/events.py, openapi.yaml): `phase` while the job waits, `token`
as the node generates, `reset` when the generation started over, `reply` last, or `error`
when the stream gives up (its time ran out, Redis or S3 went away). Comments (the
keep-alive) and event names this client does not know are skipped, as the SSE spec asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from tlfif.client.errors import UnexpectedResponse
from tlfif.contracts import NodePhase, Reply

# The `error` event's code when the stream's time ran out and the job is still queued.
REPLY_PENDING = "reply_pending"


@dataclass(frozen=True)
class PhaseEvent:
    node: NodePhase


@dataclass(frozen=True)
class TokenEvent:
    attempt: str
    text: str


@dataclass(frozen=True)
class ResetEvent:
    attempt: str


@dataclass(frozen=True)
class ReplyEvent:
    reply: Reply


@dataclass(frozen=True)
class StreamError:
    """The stream ended without the reply; the job itself goes on."""

    code: str
    message: str


JobEvent = PhaseEvent | TokenEvent | ResetEvent | ReplyEvent | StreamError


class _Phase(BaseModel):
    node: NodePhase


class _Token(BaseModel):
    attempt: str
    text: str


class _Reset(BaseModel):
    attempt: str


class _Error(BaseModel):
    code: str
    message: str = ""


def parse_events(lines: Iterable[str]) -> Iterator[JobEvent]:
    """The events in a text/event-stream, given line by line (without line endings).
    Raises UnexpectedResponse for a known event whose data the contract does not describe."""
    name = ""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                event = _typed(name or "message", "\n".join(data))
                if event is not None:
                    yield event
            name, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment: the router's keep-alive
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


def _typed(name: str, data: str) -> JobEvent | None:
    try:
        body = json.loads(data)
        if name == "phase":
            return PhaseEvent(_Phase.model_validate(body).node)
        if name == "token":
            token = _Token.model_validate(body)
            return TokenEvent(token.attempt, token.text)
        if name == "reset":
            return ResetEvent(_Reset.model_validate(body).attempt)
        if name == "reply":
            return ReplyEvent(Reply.model_validate(body))
        if name == "error":
            error = _Error.model_validate(body)
            return StreamError(error.code, error.message)
    except (ValueError, ValidationError) as exc:
        raise UnexpectedResponse(
            f"GET /result/{{id}}/events sent a {name!r} event the contract does not describe: "
            f"{type(exc).__name__}"
        ) from None
    return None
