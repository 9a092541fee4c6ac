"""`stream: true` on /v1: the reply's text as server-sent events while it is generated.

What is checked before the first byte (auth, validation, throttles, holds) answered with a
status already (router/v1/completions.py); from here on the status is 200 and a failure is
an in-stream error event, `data: {"error": {...}}`, which the openai client raises.

The text comes from the job's token stream (tlfif/tokens.py), following the first attempt
that sends any; the reply in S3 ends it: its finish reason, its usage, and any text the
stream missed (a Redis restart). A generation that started over (a redelivered job, an
engine that died mid-reply) after this stream sent text of the abandoned one ends with an
error event, never with two generations spliced (ADR 0024). While the node starts, an SSE
comment (RouterSettings.v1_keep_alive_seconds apart) keeps the connection open. A client
that goes away before the end cancels its job, unless a retry of the request opens a
stream on it within RouterSettings.v1_disconnect_grace_seconds (ADR 0024's table).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from router.cancel import ask_cancel
from router.deps import Services
from router.result import reply_of
from router.v1.errors import FAILURE_WORDS
from tlfif.contracts import Reply
from tlfif.errors import TlfifError
from tlfif.openai_contracts import (
    ChatCompletionChunk,
    OpenAIErrorBody,
    OpenAIErrorDetail,
    TextCompletionChunk,
)
from tlfif.tokens import follow

log = logging.getLogger(__name__)

# Proxies (nginx and kin) buffer a response unless told not to.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Where the transport buffers (API Gateway's HTTP API, ADR 0028) the events come at once
# after the reply, and the response says so: a client or a person reading the headers
# learns why nothing streamed.
STREAM_HEADER = "x-tlfif-stream"
Chunk = type[ChatCompletionChunk] | type[TextCompletionChunk]


@dataclass
class _Followed:
    """What this stream sent of which attempt, and where it is in the token stream."""

    attempt: str | None = None
    sent: str = ""
    after: str = "0-0"
    abandoned: bool = False  # the followed attempt ended and another began
    ended: bool = False  # the followed attempt finished: its reply is on its way


async def streamed(
    found: Services,
    job_id: str,
    reply_key: str,
    *,
    chunk: Chunk,
    created: int,
    include_usage: bool,
    until: float,
) -> StreamingResponse:
    """The 200 streaming response for queued job `job_id`; it lasts until its reply, or at
    most until `until` (time.monotonic()). If its client goes away before the last event,
    the job is cancelled unless a retry follows it within the grace (ADR 0024)."""
    opened = await found.queue.stream_opened(job_id)
    events = _events(found, job_id, reply_key, chunk, created, include_usage, until)
    return _Stream(events, lambda: _cancel_after_grace(found, job_id, opened))


class _Stream(StreamingResponse):
    """An event stream that calls `on_disconnect` when it ends before its last event: the
    client went away (whichever way the ASGI server says so: a cancelled send, an error)."""

    def __init__(self, events: AsyncIterator[str], on_disconnect: Callable[[], None]) -> None:
        self._complete = False
        self._on_disconnect = on_disconnect
        super().__init__(self._tracked(events), media_type="text/event-stream", headers=HEADERS)

    async def _tracked(self, events: AsyncIterator[str]) -> AsyncIterator[str]:
        async for event in events:
            yield event
        self._complete = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self._complete:
                self._on_disconnect()


# The grace timers running: a task must be referenced until it ends.
_graces: set[asyncio.Task[None]] = set()


def _cancel_after_grace(found: Services, job_id: str, opened: int) -> None:
    task = asyncio.get_running_loop().create_task(_cancel_unless_resumed(found, job_id, opened))
    _graces.add(task)
    task.add_done_callback(_graces.discard)


async def _cancel_unless_resumed(found: Services, job_id: str, opened: int) -> None:
    """After the grace, cancel the job if no other stream followed it meanwhile (a retry
    resuming it counts one more). A job answered already is left as it is."""
    await asyncio.sleep(found.settings.v1_disconnect_grace_seconds)
    try:
        if await found.queue.streams_opened(job_id) != opened:
            log.info("stream left and resumed", extra={"job_id": job_id})
            return
        owner = await found.queue.owner(job_id)
        state = await ask_cancel(found, job_id, owner) if owner is not None else "gone"
    except TlfifError as exc:  # Redis or S3 away: the job goes on, as if never left
        log.warning(
            "stream left, job not cancelled", extra={"job_id": job_id, "detail": exc.message}
        )
        return
    # state: where the job was; anything but "done" (answered already) is now cancelled.
    log.info("stream left with no retry", extra={"job_id": job_id, "state": state})


async def _events(
    found: Services,
    job_id: str,
    reply_key: str,
    chunk: Chunk,
    created: int,
    include_usage: bool,
    until: float,
) -> AsyncIterator[str]:
    model = found.settings.served_model
    if chunk is ChatCompletionChunk:
        yield _data(chunk.piece(job_id, created=created, model=model, text=""))
    followed = _Followed()
    quiet_since = time.monotonic()
    try:
        while True:
            async for text in _new_text(found, job_id, followed):
                yield _data(chunk.piece(job_id, created=created, model=model, text=text))
                quiet_since = time.monotonic()
            if followed.ended:
                # Its text is all here; the reply lands next (after the end marker).
                await found.queue.wait_done(job_id, max(0.0, min(5.0, until - time.monotonic())))
            reply = await reply_of(found, job_id, reply_key)
            if reply is not None:
                break
            now = time.monotonic()
            if now >= until:
                yield _error(
                    503,
                    "reply_pending",
                    "no reply within this stream's time; "
                    "send the request again (with the same Idempotency-Key) to resume it",
                )
                return
            if now - quiet_since >= found.settings.v1_keep_alive_seconds:
                yield ": keep-alive\n\n"
                quiet_since = now
    except TlfifError as exc:  # Redis or S3 went away mid-stream
        yield _error(503, exc.code, exc.caller_message)
        return
    async for event in _ending(reply, followed, chunk, created, model, include_usage):
        yield event


async def _new_text(found: Services, job_id: str, followed: _Followed) -> AsyncIterator[str]:
    """Text of the followed attempt read since the last call, one batch at a time; each
    read blocks at most READ_BLOCK_SECONDS (tlfif/tokens.py)."""
    async for entry_id, piece in follow(found.queue.blocking, job_id, after=followed.after):
        followed.after = entry_id
        if followed.attempt is None or (not followed.sent and piece.attempt != followed.attempt):
            followed.attempt = piece.attempt  # nothing sent yet: follow the newest attempt
        elif piece.attempt != followed.attempt:
            followed.abandoned = True
            continue
        if piece.text and not followed.abandoned:
            followed.sent += piece.text
            yield piece.text
        if piece.end is not None:
            followed.ended = piece.end != "error" and piece.attempt == followed.attempt
            return


async def _ending(
    reply: Reply,
    followed: _Followed,
    chunk: Chunk,
    created: int,
    model: str,
    include_usage: bool,
) -> AsyncIterator[str]:
    if reply.status != "done":
        code = reply.error_code or reply.status
        yield _error(502, code, FAILURE_WORDS.get(code, "this request failed"))
        return
    if not reply.text.startswith(followed.sent):
        yield _error(
            502,
            "generation_restarted",
            "the reply was generated again after this stream had sent part of an earlier "
            "try; send the request again without streaming to read the whole reply",
        )
        return
    rest = reply.text[len(followed.sent) :]
    if rest:
        yield _data(chunk.piece(reply.id, created=created, model=model, text=rest))
    yield _data(chunk.last(reply, created=created, model=model))
    if include_usage:
        yield _data(chunk.usage_of(reply, created=created, model=model))
    yield "data: [DONE]\n\n"


def whole(
    reply: Reply, *, chunk: Chunk, created: int, model: str, include_usage: bool
) -> StreamingResponse:
    """A streamed request's reply at once, as the events a live stream would have sent,
    where the transport cannot stream (TLFIF_ROUTER_V1_STREAM_LIVE=false); the header
    `x-tlfif-stream: buffered` says so."""

    async def events() -> AsyncIterator[str]:
        if chunk is ChatCompletionChunk:
            yield _data(chunk.piece(reply.id, created=created, model=model, text=""))
        async for event in _ending(reply, _Followed(), chunk, created, model, include_usage):
            yield event

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={**HEADERS, STREAM_HEADER: "buffered"}
    )


def _data(event: ChatCompletionChunk | TextCompletionChunk) -> str:
    return f"data: {event.model_dump_json()}\n\n"


def _error(status: int, code: str, message: str) -> str:
    """An in-stream error as OpenAI sends one; the openai client raises APIError on it."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    body: dict[str, Any] = OpenAIErrorBody(
        error=OpenAIErrorDetail(message=message, type=kind, code=code)
    ).model_dump(mode="json")
    return f"data: {json.dumps(body)}\n\n"
