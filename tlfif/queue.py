"""The job queue in Redis: enqueue, claim, ack, requeue, and the done signal.

Delivery is at least once: a claimed job sits in its node's in-flight list until acked,
and goes back to pending if that node dies. The reply itself is written once (S3
If-None-Match), so a redelivered job never changes what a client already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from tlfif import keys
from tlfif.contracts import Job, Owner, now_ms
from tlfif.errors import BudgetHold, QueueUnavailable, Throttled
from tlfif.nodes import NodeView
from tlfif.redis_conn import RedisClient, load_script, queue_errors

BUDGET_MESSAGE = "the monthly budget is reached: no prompt is queued until the owner lifts the hold"
OWNER_TTL_SECONDS = 86400  # a day: an expired job is still answered to its owner
# While a node holds a job its body must outlive any generation; the reaper, not the
# TTL, is what rescues a job from a dead node.
INFLIGHT_TTL_SECONDS = 3600
# How many answered copies (tombstoned ids) one take may drop before it returns.
TAKE_SKIP_LIMIT = 16

JobState = Literal["queued", "running", "done", "gone"]
# A claimed job as its claim found it: its body; "answered" when its reply was signalled
# already (a copy requeued while its first node answered it, an expired or a cancelled
# job still pending: the id is dropped); "expired" when its body was gone; "cancelled"
# when its submitter asked to cancel it before it ran (answer it so, never run it).
Claimed = Job | Literal["answered", "expired", "cancelled"]


@dataclass(frozen=True)
class Claim:
    """A job id moved into a node's in-flight list, and its body when the claim read it
    (None: read it with load_claimed)."""

    id: str
    job: Claimed | None = None


@dataclass(frozen=True)
class Enqueued:
    id: str
    created: bool
    depth: int  # jobs pending after it
    node: NodeView | None = None  # asked with with_node: read in the same round trip
    followed_wake: bool = False  # the new job came within its sender's wake (ADR 0029)


class JobQueue:
    """Jobs for the GPU node. Every method raises QueueUnavailable if Redis fails."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        job_ttl_seconds: int = 300,
        user_pending_cap: int = 0,
        blocking: RedisClient | None = None,
    ) -> None:
        self.redis = redis
        # Blocking reads (claims, the done signal's long poll) on a client of their own,
        # whose reads may wait that long (redis_conn.connect(blocking_seconds=...)); the
        # same client where one serves both (tests).
        self.blocking = blocking or redis
        self.job_ttl_seconds = job_ttl_seconds
        self.user_pending_cap = user_pending_cap
        self._enqueue = load_script(redis, "enqueue")
        self._claim = load_script(redis, "claim")
        self._take = load_script(redis, "take")
        self._state = load_script(redis, "state")
        self._ack = load_script(redis, "ack")
        self._finish = load_script(redis, "finish")
        self._requeue = load_script(redis, "requeue")
        self._release = load_script(redis, "release")
        self._cancel = load_script(redis, "cancel")

    async def enqueue(
        self, job: Job, idempotency_key: str | None = None, *, with_node: bool = False
    ) -> Enqueued:
        """Queue `job`; with an idempotency key seen before, return the first job's id.
        Under the budget hold nothing is queued (BudgetHold); past the caller's pending cap,
        Throttled. `with_node` also reads NodeRegistry.view() in the same script."""
        owner = Owner(sub=job.sub, reply_key=job.reply_key, created_ms=job.created_ms)
        idem = keys.idempotency(job.sub, idempotency_key) if idempotency_key else keys.job(job.id)
        try:
            job_id, created, depth, followed, *node = await self._call(
                self._enqueue,
                [
                    keys.job(job.id),
                    keys.owner(job.id),
                    keys.PENDING,
                    idem,
                    keys.user_pending(job.sub),
                    keys.HOLD,
                    keys.NODES,
                    keys.EC2_STATE,
                    keys.woken(job.sub),
                ],
                [
                    job.model_dump_json(),
                    owner.model_dump_json(),
                    job.id,
                    self.job_ttl_seconds,
                    OWNER_TTL_SECONDS,
                    "1" if idempotency_key else "0",
                    job.created_ms,
                    self.user_pending_cap,
                    keys.node("") if with_node else "",
                ],
            )
        except QueueUnavailable as exc:
            if isinstance(exc.__cause__, ResponseError) and str(exc.__cause__) == "budget":
                raise BudgetHold(BUDGET_MESSAGE) from exc
            if isinstance(exc.__cause__, ResponseError) and str(exc.__cause__) == "cap":
                raise Throttled(
                    f"you have {self.user_pending_cap} jobs pending already; "
                    "wait for a reply before sending more",
                    retry_after=10,
                ) from exc
            raise
        view = NodeView.parse(node[0], node[1], node[2:]) if with_node else None
        return Enqueued(
            id=str(job_id),
            created=bool(int(created)),
            depth=int(depth),
            node=view,
            followed_wake=bool(int(followed)),
        )

    async def claim(self, node: str, timeout: float) -> Claim | None:
        """The oldest pending job, moved into `node`'s in-flight list; None if none came
        within `timeout`. With a backlog, one script takes and reads it (one round trip);
        on an empty queue a BLMOVE waits, and the body is left to load_claimed."""
        taken = await self._call(
            self._take,
            [keys.PENDING, keys.inflight(node)],
            [keys.job(""), keys.done(""), INFLIGHT_TTL_SECONDS, TAKE_SKIP_LIMIT, keys.cancel("")],
        )
        if taken is not None:
            job_id, body, *cancelled = taken
            if not body:
                return Claim(str(job_id), "expired")
            if cancelled:
                return Claim(str(job_id), "cancelled")
            try:
                return Claim(str(job_id), Job.model_validate_json(body))
            except ValidationError:
                # Left to load_claimed, which raises it where the job's answer is made.
                return Claim(str(job_id))
        job_id = await self.claim_next(node, timeout)
        return Claim(job_id) if job_id is not None else None

    async def claim_next(self, node: str, timeout: float) -> str | None:
        """Move the oldest pending id into `node`'s in-flight list (BLMOVE), or None."""
        with queue_errors():
            # Redis takes a fractional timeout (>= 6.0); redis-py's stub says int.
            job_id = await self.blocking.blmove(
                keys.PENDING,
                keys.inflight(node),
                timeout,  # type: ignore[arg-type]
                "RIGHT",
                "LEFT",
            )
        return str(job_id) if job_id is not None else None

    async def take_next(self, node: str) -> str | None:
        """As claim_next, without waiting: the oldest pending id, or None at once."""
        with queue_errors():
            job_id = await self.redis.lmove(keys.PENDING, keys.inflight(node), "RIGHT", "LEFT")
        return str(job_id) if job_id is not None else None

    async def load_claimed(self, node: str, job_id: str) -> Claimed:
        """The body of a job claim_next moved (kept alive while in flight), as Claimed."""
        body = await self._call(
            self._claim,
            [keys.job(job_id), keys.done(job_id), keys.inflight(node), keys.cancel(job_id)],
            [INFLIGHT_TTL_SECONDS, job_id],
        )
        if body == 0:
            return "answered"
        if body == 1:
            return "cancelled"
        return Job.model_validate_json(body) if body else "expired"

    async def finish(self, node: str, job_id: str, sub: str | None) -> None:
        """A job's reply is written: signal it and forget the job, in one round trip."""
        await self._call(
            self._finish,
            [keys.done(job_id), keys.inflight(node), keys.job(job_id), _user_set(sub)],
            [job_id, OWNER_TTL_SECONDS],
        )

    async def ack(self, node: str, job_id: str, sub: str | None) -> None:
        """Forget a job without answering it (nobody is left to answer)."""
        await self._call(
            self._ack, [keys.inflight(node), keys.job(job_id), _user_set(sub)], [job_id]
        )

    async def in_flight(self, node: str) -> list[str]:
        with queue_errors():
            return [str(job_id) for job_id in await self.redis.lrange(keys.inflight(node), 0, -1)]

    async def give_back(self, node: str, job_ids: list[str]) -> int:
        """Move these ids from `node`'s in-flight list back to run next; returns how many
        were there."""
        with queue_errors():
            async with self.redis.pipeline(transaction=True) as pipe:
                for job_id in job_ids:
                    pipe.lrem(keys.inflight(node), 1, job_id)
                removed = await pipe.execute()
            back = [job_id for job_id, gone in zip(job_ids, removed, strict=True) if gone]
            if back:
                await self.redis.rpush(keys.PENDING, *back)
        return len(back)

    async def reclaim(self, node: str) -> int:
        """At a watcher's start: its own in-flight jobs go back to run next."""
        return int(await self._requeue_node(node, force=True))

    async def release(self, node: str) -> int:
        """A stopping node gives back the jobs it could not finish: to run next, each with
        the rest of its own lifetime (not the in-flight hour), so each is answered in time:
        by the next node, or as expired."""
        return int(
            await self._call(
                self._release,
                [keys.inflight(node), keys.PENDING],
                [keys.job(""), self.job_ttl_seconds * 1000, now_ms()],
            )
        )

    async def requeue_orphans(self) -> dict[str, int]:
        """Requeue in-flight jobs of every node whose heartbeat lapsed."""
        with queue_errors():
            nodes = await self.redis.smembers(keys.NODES)
        moved: dict[str, int] = {}
        for node in sorted(str(n) for n in nodes):
            count = int(await self._requeue_node(node, force=False))
            if count >= 0:
                moved[node] = count
        return moved

    async def _requeue_node(self, node: str, *, force: bool) -> Any:
        return await self._call(
            self._requeue,
            [keys.node(node), keys.inflight(node), keys.PENDING, keys.NODES],
            [node, "force" if force else ""],
        )

    async def owner(self, job_id: str) -> Owner | None:
        body = await self._get(keys.owner(job_id))
        return Owner.model_validate_json(body) if body else None

    async def state(self, job_id: str) -> JobState:
        """Where a job is: answered, waiting, taken by a node, or expired unanswered; at
        the same cost whatever the backlog (lua/state.lua)."""
        state: JobState = await self._call(
            self._state,
            [keys.done(job_id), keys.job(job_id), keys.NODES],
            [keys.inflight(""), job_id],
        )
        return state

    async def cancel(self, job_id: str) -> JobState:
        """Ask to cancel a job: where it is (as state()), and, unless it is answered or
        expired already, its cancel mark set, which a node reads at claim and between
        tokens (lua/cancel.lua)."""
        state: JobState = await self._call(
            self._cancel,
            [keys.done(job_id), keys.job(job_id), keys.NODES, keys.cancel(job_id)],
            [keys.inflight(""), job_id, INFLIGHT_TTL_SECONDS],
        )
        return state

    async def stream_opened(self, job_id: str) -> int:
        """Count one more stream following the job; returns the count."""
        key = keys.streams(job_id)
        with queue_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, INFLIGHT_TTL_SECONDS)
                opened, _ = await pipe.execute()
        return int(opened)

    async def streams_opened(self, job_id: str) -> int:
        """How many streams followed the job (stream_opened)."""
        with queue_errors():
            return int(await self.redis.get(keys.streams(job_id)) or 0)

    async def cancel_asked(self, job_id: str) -> bool:
        """Whether the job's submitter asked to cancel it."""
        with queue_errors():
            return bool(await self.redis.exists(keys.cancel(job_id)))

    async def retire(self, job_id: str, sub: str) -> None:
        """A job answered while still queued (cancelled): signal it and forget its body.
        Its id stays in the pending list, where the signal is its tombstone: a node drops
        it at claim in O(1), and nothing scans the list (ADR 0025)."""
        with queue_errors():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(keys.done(job_id), "1")
                pipe.expire(keys.done(job_id), OWNER_TTL_SECONDS)
                pipe.delete(keys.job(job_id))
                pipe.zrem(keys.user_pending(sub), job_id)
                await pipe.execute()

    async def signal_done(self, job_id: str) -> None:
        """Tell every waiter the reply of a job no node holds is written (it expired while
        pending). The signal stays a day. Its id leaves the pending list too, so the check
        does not start a node for it: an O(n) LREM, but only on this rare path; the
        watcher's answers go through finish(), and a copy still pending is skipped at claim
        (the signal is its tombstone, lua/claim.lua)."""
        with queue_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(keys.done(job_id), "1")
                pipe.expire(keys.done(job_id), OWNER_TTL_SECONDS)
                pipe.lrem(keys.PENDING, 0, job_id)
                await pipe.execute()

    async def wait_done(self, job_id: str, timeout: float) -> bool:
        """Block until the reply is signalled or `timeout` passes; True if signalled.

        BLMOVE from the done list onto itself rotates it without emptying it, so every
        blocked waiter is served in turn, and a waiter arriving later returns at once.
        """
        with queue_errors():
            if timeout <= 0:
                return bool(await self.redis.exists(keys.done(job_id)))
            moved = await self.blocking.blmove(
                keys.done(job_id),
                keys.done(job_id),
                timeout,  # type: ignore[arg-type]
                "RIGHT",
                "LEFT",
            )
        return moved is not None

    async def depth(self) -> int:
        with queue_errors():
            return int(await self.redis.llen(keys.PENDING))

    async def pending_for(self, sub: str) -> list[str]:
        """The caller's jobs not yet answered (queued or running)."""
        with queue_errors():
            # Scores are expiry times: a job past its TTL is no longer pending.
            ids = await self.redis.zrangebyscore(keys.user_pending(sub), now_ms(), "+inf")
        return [str(job_id) for job_id in ids]

    async def _get(self, key: str) -> str | None:
        with queue_errors():
            value = await self.redis.get(key)
        return str(value) if value is not None else None

    async def _call(self, script: AsyncScript, script_keys: list[str], args: list[Any]) -> Any:
        with queue_errors():
            return await script(keys=script_keys, args=args)


def _user_set(sub: str | None) -> str:
    return keys.user_pending(sub if sub else "-")
