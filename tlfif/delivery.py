"""Answering a job: write its one reply, then wake everyone waiting for it.

Used by the watcher for every job it runs, and by the router and the scheduled check for
a job that expired before any node took it, so every job gets exactly one reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlfif.contracts import Owner, Reply, now_ms
from tlfif.errors import ReplyExists
from tlfif.ports import ReplyStore
from tlfif.queue import JobQueue


@dataclass(frozen=True)
class Taken:
    """A job a node holds in flight, and its submitter's pending set."""

    node: str
    sub: str | None


@dataclass(frozen=True)
class Queued:
    """A job answered while it still waits in the pending list (cancelled): its id stays
    there, the done signal its tombstone (ADR 0025)."""

    sub: str


async def deliver(
    queue: JobQueue,
    store: ReplyStore,
    reply_key: str,
    reply: Reply,
    taken: Taken | Queued | None = None,
) -> bool:
    """Write `reply` once and signal it; a job `taken` by a node (or `Queued`) is also
    forgotten. False if another writer answered first (S3 412): the reply a client may
    already have read stays as it was."""
    try:
        await store.put_reply(reply_key, reply)
        written = True
    except ReplyExists:
        written = False
    if taken is None:
        await queue.signal_done(reply.id)
    elif isinstance(taken, Queued):
        await queue.retire(reply.id, taken.sub)
    else:
        await queue.finish(taken.node, reply.id, taken.sub)
    return written


def expired_reply(job_id: str, owner: Owner) -> Reply:
    waited = now_ms() - owner.created_ms
    return Reply(
        id=job_id,
        status="expired",
        queued_ms=waited,
        error=f"no node took the job within its time to live (waited {waited // 1000} s)",
        error_code="expired",
    )


CANCELLED_QUEUED = "cancelled by its submitter before it ran"


def cancelled_reply(job_id: str, created_ms: int) -> Reply:
    """The answer of a job cancelled before any engine saw it."""
    return Reply(
        id=job_id,
        status="cancelled",
        queued_ms=max(0, now_ms() - created_ms),
        error=CANCELLED_QUEUED,
    )


async def answer_if_expired(queue: JobQueue, store: ReplyStore, job_id: str) -> bool:
    """If `job_id` expired unanswered, give its owner an "expired" reply. True if it did."""
    owner = await queue.owner(job_id)
    if owner is None or await queue.state(job_id) != "gone":
        return False
    await deliver(queue, store, owner.reply_key, expired_reply(job_id, owner))
    return True
