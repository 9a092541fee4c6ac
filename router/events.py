"""GET /result/{id}/events: a job's text as server-sent events while it is generated, for
the caller who submitted it (404 for anyone else, as GET /result).

Events: `phase` ({"node": NodePhase}) while the job waits, again whenever the phase
changes; `token` ({"attempt", "text"}) as the node streams (for a job sent with
`"stream": true`); `reset` ({"attempt"}) when the generation started over (a redelivered
job, an engine that died mid-reply): what came before it is void; `reply` (the Reply, as
GET /result answers it) last, and the stream ends. A job not sent to stream gets its phases
and then its reply. Where the transport cannot stream (TLFIF_ROUTER_V1_STREAM_LIVE=false)
the events arrive at once, within the unstreamed wait, and the header
`x-tlfif-stream: buffered` says so (ADR 0028).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from router.deps import Services, caller, services
from router.result import NOT_FOUND, own_job, reply_of
from router.v1.stream import STREAM_HEADER
from tlfif.contracts import NodePhase, reply_key_for
from tlfif.errors import JobNotFound, TlfifError
from tlfif.tokens import follow

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def events(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    job_id = request.path_params["id"]
    if await own_job(found, claims, job_id) is None:
        raise JobNotFound(NOT_FOUND)
    settings = found.settings
    lasts = settings.v1_stream_seconds if settings.v1_stream_live else settings.v1_wait_seconds
    until = time.monotonic() + lasts
    stream = _events(found, job_id, reply_key_for(claims.sub, job_id), until)
    headers = HEADERS if settings.v1_stream_live else {**HEADERS, STREAM_HEADER: "buffered"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _events(found: Services, job_id: str, reply_key: str, until: float) -> AsyncIterator[str]:
    attempt: str | None = None
    phase: NodePhase | None = None
    after = "0-0"
    ended = False  # the current attempt finished: its reply is on its way
    quiet_since = time.monotonic()
    try:
        while (reply := await reply_of(found, job_id, reply_key)) is None:
            now = time.monotonic()
            if now >= until:
                yield _event("error", {"code": "reply_pending", "message": _PENDING})
                return
            if attempt is None and (current := await found.waker.phase()) != phase:
                phase = current
                yield _event("phase", {"node": phase})
                quiet_since = now
            if ended:
                # The text is all here; the reply lands next (after the end marker).
                await found.queue.wait_done(job_id, max(0.0, min(5.0, until - now)))
                continue
            async for entry_id, piece in follow(found.queue.blocking, job_id, after=after):
                after = entry_id
                if piece.attempt != attempt:
                    if attempt is not None:
                        yield _event("reset", {"attempt": piece.attempt})
                    attempt = piece.attempt
                if piece.text:
                    yield _event("token", {"attempt": attempt, "text": piece.text})
                    quiet_since = time.monotonic()
                if piece.end is not None:
                    ended = piece.end != "error"
                    break
            if time.monotonic() - quiet_since >= found.settings.v1_keep_alive_seconds:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
    except TlfifError as exc:  # Redis or S3 went away mid-stream
        yield _event("error", {"code": exc.code, "message": exc.caller_message})
        return
    yield _event("reply", reply.model_dump(mode="json"))


_PENDING = (
    "no reply within this stream's time; the job is still queued: "
    "follow it again, or read GET /result/{id}"
)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
