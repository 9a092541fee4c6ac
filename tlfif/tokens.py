"""A job's text while it is generated: the Redis stream {tlfif}:tokens:<id>.

The watcher appends what the engine streams (for a job that asked, `Job.stream`), a batch
at a time; the router's streaming responses follow it. It is a view, never the record: the
reply in S3 is what the job said, so a reader that missed entries (a Redis restart) or saw a
generation start over (a redelivered job, an engine that died mid-reply) ends from the
reply, never from here (ADR 0026).

Entries: {"a": attempt, "t": text} for text, {"a": attempt, "end": finish_reason} at the end
of an attempt. An attempt is a fresh generation of the job: "<node>/<n>".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tlfif import keys
from tlfif.errors import QueueUnavailable
from tlfif.redis_conn import RedisClient, queue_errors
from tlfif.runtime.logs import log_event

log = logging.getLogger(__name__)

# Text is sent on at most this often: one XADD per batch, not per token. The first batch
# goes at once: a reader's first token waits for no batch (bench first_token).
FLUSH_SECONDS = 0.05
# As long as a job may be held in flight: a reader may still be following it.
TOKENS_TTL_SECONDS = 3600
# A reader's longest block on the stream before it looks at the job again.
READ_BLOCK_SECONDS = 1.0


@dataclass(frozen=True)
class Piece:
    """One entry as a reader sees it: text, or the end of an attempt."""

    attempt: str
    text: str = ""
    end: str | None = None


class TokenWriter:
    """Batches one attempt's deltas into the job's stream. Never raises: a failed write is
    logged and its text dropped, since the reply in S3 carries the whole text anyway.

    Each batch also looks for the job's cancel mark in the same round trip: `cancel_asked`
    says whether the last one found it (watcher/cancel_watch.py stops the job then)."""

    def __init__(self, redis: RedisClient, job_id: str, attempt: str) -> None:
        self.redis = redis
        self.job_id = job_id
        self.attempt = attempt
        self._buffer: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._failed = False
        self._sending = False
        self._first = True
        self.cancel_asked = False

    def add(self, delta: str) -> None:
        """Take one delta; it is sent within FLUSH_SECONDS (the attempt's first at once)."""
        self._buffer.append(delta)
        if self._flusher is None or self._flusher.done():
            delay = 0.0 if self._first else FLUSH_SECONDS
            self._first = False
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon(delay))

    async def end(self, finish_reason: str) -> None:
        """Send what is left and the attempt's end marker, in order: a batch on its way is
        awaited, one still waiting for its moment is sent here instead."""
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            if self._sending:
                await flusher
            else:
                flusher.cancel()
        await self._send({"a": self.attempt, "t": "".join(self._buffer)} if self._buffer else None)
        self._buffer.clear()
        await self._send({"a": self.attempt, "end": finish_reason})

    async def _flush_soon(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._sending = True
        text = "".join(self._buffer)
        self._buffer.clear()
        try:
            await self._send({"a": self.attempt, "t": text})
        finally:
            self._sending = False

    async def _send(self, entry: dict[str, str] | None) -> None:
        if entry is None or self._failed:
            return
        key = keys.tokens(self.job_id)
        try:
            with queue_errors():
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.xadd(key, entry)  # type: ignore[arg-type]
                    pipe.expire(key, TOKENS_TTL_SECONDS)
                    pipe.exists(keys.cancel(self.job_id))
                    *_, asked = await pipe.execute()
            self.cancel_asked = bool(asked)
        except QueueUnavailable as exc:
            # The rest of this attempt's text reaches readers through the reply.
            self._failed = True
            log_event(log, "tokens_dropped", logging.WARNING, jobId=self.job_id, error=exc.message)


async def follow(
    redis: RedisClient, job_id: str, *, after: str = "0-0"
) -> AsyncIterator[tuple[str, Piece]]:
    """The job's entries from `after` on, as (entry id, Piece), each read blocking up to
    READ_BLOCK_SECONDS; ends when an empty read comes back (the caller then looks at the
    job, and may follow again from the last id it saw). Raises QueueUnavailable."""
    key = keys.tokens(job_id)
    while True:
        with queue_errors():
            answer = await redis.xread({key: after}, block=int(READ_BLOCK_SECONDS * 1000))
        if not answer:
            return
        for _, entries in _streams(answer):
            for entry_id, fields in entries:
                after = str(entry_id)
                yield (
                    after,
                    Piece(
                        attempt=str(fields.get("a", "")),
                        text=str(fields.get("t", "")),
                        end=str(fields["end"]) if "end" in fields else None,
                    ),
                )


def _streams(answer: object) -> list[tuple[str, list[tuple[str, dict[str, str]]]]]:
    """XREAD's answer as [(key, entries)]: RESP3 gives a map, RESP2 a list of pairs."""
    if isinstance(answer, dict):
        return [(str(k), v) for k, v in answer.items()]
    return [(str(k), v) for k, v in answer]  # type: ignore[attr-defined]
