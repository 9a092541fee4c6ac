"""Running one claimed job to its reply: load it, generate, write the reply once, ack.

The id stays in the node's in-flight list until the ack, so a crash or a Redis outage at
any step leaves it to be reclaimed and run again; the write-once reply makes that safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tlfif.contracts import DEFAULT_IDLE_MINUTES, Job, Reply, ReplyErrorCode, Usage, now_ms
from tlfif.delivery import Taken, cancelled_reply, deliver, expired_reply
from tlfif.errors import EngineDown, EngineError, QueueUnavailable, ReplyStoreError
from tlfif.ports import ReplyStore
from tlfif.queue import Claim, Claimed, JobQueue
from tlfif.runtime.logs import log_event
from tlfif.settings import WatcherSettings
from tlfif.tokens import TokenWriter
from watcher.cancel_watch import CancelWatch, JobCancelled
from watcher.engine import Completion, EngineClient
from watcher.engine_outage import EngineOutage
from watcher.redis_health import Backoff, RedisHealth
from watcher.usage_keeper import UsageKeeper

log = logging.getLogger(__name__)

T = TypeVar("T")

ENGINE_FAILED_MESSAGE = (
    "the engine died and did not come back, so the node stopped itself; "
    "send the prompt again to start it"
)
FLAPPING_MESSAGE = "the engine kept going away while this job waited for it"
CANCELLED_RUNNING = "cancelled by its submitter while it ran; the text is what came before"


def crashed_message(crashes: int) -> str:
    return (
        f"the engine died {crashes} times while running this job, so it is not run again: "
        "the prompt may be what kills it"
    )


@dataclass(frozen=True)
class EngineFailure:
    """Why a job got no completion: the reply's error_code and its words."""

    code: ReplyErrorCode
    message: str


class JobRunner:
    """Answers claimed jobs for one node. Safe to share between worker tasks."""

    def __init__(
        self,
        node: str,
        queue: JobQueue,
        store: ReplyStore,
        engine: EngineClient,
        outage: EngineOutage,
        health: RedisHealth,
        settings: WatcherSettings,
        usage: UsageKeeper,
    ) -> None:
        self.node = node
        self.usage = usage
        self.queue = queue
        self.store = store
        self.engine = engine
        self.outage = outage
        self.health = health
        self.settings = settings

    async def answer(self, claim: Claim) -> int:
        """Give the claimed job its one reply and ack it; returns the idle minutes it asks.

        Redis and S3 failures are retried until they pass (the job is never dropped); an
        engine that refuses the job is retried a bounded number of times, an engine that is
        down is waited for (EngineOutage); then the reply says "error" and why.
        """
        started_ms = now_ms()
        job_id = claim.id
        self.usage.started(job_id)
        try:
            job: Claimed = (
                claim.job
                if claim.job is not None
                else await self._keep_trying(lambda: self.queue.load_claimed(self.node, job_id))
            )
            if job == "answered":  # a copy of a job another node answered, or one expired
                log_event(log, "job_skipped", logging.DEBUG, jobId=job_id, reason="answered")
                return DEFAULT_IDLE_MINUTES
            if job == "expired":
                return await self._answer_expired(job_id)
            if job == "cancelled":  # cancelled while queued: it never reaches the engine
                return await self._answer_cancelled(job_id)
            reply = await self._generate(job, started_ms)
            await self._finish(job_id, job.sub, job.reply_key, reply)
            return job.idle
        except Exception as exc:  # a bug or an unreadable job body: still answer the owner
            # The type only: a validation error's text would quote the prompt.
            log_event(log, "job_crashed", logging.ERROR, jobId=job_id, error=type(exc).__name__)
            await self._answer_crashed(job_id, exc)
            return DEFAULT_IDLE_MINUTES
        finally:
            # A job with no reply of this node's (a copy answered elsewhere, an unknown id)
            # still leaves the ledger, its share to nobody.
            self.usage.dropped(job_id)

    async def _answer_expired(self, job_id: str) -> int:
        owner = await self._keep_trying(lambda: self.queue.owner(job_id))
        if owner is None:
            # Neither body nor owner (the owner key outlives the job by a day): nobody to
            # answer, so only forget the id.
            log_event(log, "job_unknown", logging.WARNING, jobId=job_id)
            await self._keep_trying(lambda: self.queue.ack(self.node, job_id, None))
            return DEFAULT_IDLE_MINUTES
        await self._finish(job_id, owner.sub, owner.reply_key, expired_reply(job_id, owner))
        return DEFAULT_IDLE_MINUTES

    async def _answer_cancelled(self, job_id: str) -> int:
        """The router answers a queued job it cancels itself; this is the same answer, for
        a node that took the job meanwhile (the write-once reply keeps one of the two)."""
        owner = await self._keep_trying(lambda: self.queue.owner(job_id))
        if owner is None:
            await self._keep_trying(lambda: self.queue.ack(self.node, job_id, None))
            return DEFAULT_IDLE_MINUTES
        reply = cancelled_reply(job_id, owner.created_ms)
        await self._finish(job_id, owner.sub, owner.reply_key, reply)
        return DEFAULT_IDLE_MINUTES

    async def _answer_crashed(self, job_id: str, exc: Exception) -> None:
        owner = await self._keep_trying(lambda: self.queue.owner(job_id))
        error = f"the watcher failed on this job ({type(exc).__name__})"
        reply = Reply(id=job_id, status="error", error=error, error_code="watcher_failed")
        if owner is None:
            await self._keep_trying(lambda: self.queue.ack(self.node, job_id, None))
        else:
            await self._finish(job_id, owner.sub, owner.reply_key, reply)

    async def _generate(self, job: Job, started_ms: int) -> Reply:
        began = time.monotonic()
        try:
            outcome: Completion | EngineFailure | JobCancelled = await self._complete(job)
        except JobCancelled as cancelled:
            outcome = cancelled
        finally:
            self.outage.forget(job.id)
        timing = {
            "latency_ms": int((time.monotonic() - began) * 1000),
            "queued_ms": max(0, started_ms - job.created_ms),
        }
        if isinstance(outcome, JobCancelled):
            return Reply(
                id=job.id,
                status="cancelled",
                text=outcome.text,
                model=self.engine.model,
                usage=Usage(completion_tokens=outcome.deltas),
                error=CANCELLED_RUNNING,
                **timing,
            )
        if isinstance(outcome, EngineFailure):
            return Reply(
                id=job.id,
                status="error",
                model=self.engine.model,
                error=outcome.message,
                error_code=outcome.code,
                **timing,
            )
        return Reply(
            id=job.id,
            status="done",
            text=outcome.text,
            model=outcome.model,
            usage=outcome.usage,
            finish_reason=outcome.finish_reason,
            **timing,
        )

    async def _complete(self, job: Job) -> Completion | EngineFailure:
        """The engine's reply, or why there is none.

        A refusal (EngineError) is retried with doubling pauses, `engine_retries` times. An
        engine that is down (EngineDown) is waited for and the job run again, unless the
        job was in it each of the `engine_crash_limit` times it died.
        """
        settings = self.settings
        delay = settings.engine_retry_backoff_seconds
        attempts = settings.engine_retries + 1
        refusals = 0
        while True:
            seen_deaths = self.outage.deaths
            if not await self.outage.wait_up():
                return EngineFailure("engine_failed", ENGINE_FAILED_MESSAGE)
            try:
                async with self.outage.turn(job.id):
                    return await self._attempt(job)
            except EngineDown as exc:
                seen = self.outage.report(job.id, exc, seen_deaths)
                log_event(
                    log, "engine_down_on_job", logging.WARNING, jobId=job.id,
                    whileRunning=exc.while_running, crashes=seen.crashes, error=exc.message,
                )  # fmt: skip
                if seen.crashes >= settings.engine_crash_limit:
                    return EngineFailure("engine_crashed", crashed_message(seen.crashes))
                if seen.outages > settings.engine_crash_limit + attempts:
                    return EngineFailure("engine_error", FLAPPING_MESSAGE)
            except EngineError as exc:
                refusals += 1
                log_event(
                    log, "engine_attempt_failed", logging.WARNING, jobId=job.id,
                    attempt=refusals, of=attempts, error=exc.message,
                )  # fmt: skip
                if refusals >= attempts:
                    return EngineFailure("engine_error", exc.message)
                await asyncio.sleep(delay)
                delay *= 2

    async def _attempt(self, job: Job) -> Completion:
        """One generation of `job`; a streamed job's text also goes to its token stream,
        tagged with this attempt, so a reader can tell a fresh start from more text. A
        cancel seen between tokens stops it (JobCancelled, watcher/cancel_watch.py)."""
        writer = (
            TokenWriter(self.queue.redis, job.id, f"{self.node}/{uuid.uuid4().hex[:8]}")
            if job.stream
            else None
        )
        watch = CancelWatch(self.queue, job.id, writer)
        try:
            completion = await self.engine.complete(job.messages, job.params, on_delta=watch.add)
        except (EngineDown, EngineError, JobCancelled) as exc:
            if writer is not None:
                await writer.end("cancelled" if isinstance(exc, JobCancelled) else "error")
            raise
        finally:
            await watch.close()
        if writer is not None:
            await writer.end(completion.finish_reason)
        return completion

    async def _finish(self, job_id: str, sub: str, reply_key: str, reply: Reply) -> None:
        """Write the reply once, then signal it and forget the job (one script): in that
        order, so the job is never forgotten before its reply is safely written. Then the
        job's one log line: its summary, and its audit event (never the prompt), with the
        node-seconds it caused (ADR 0034); then, if this node wrote it, the user's usage."""
        written = False
        taken = Taken(self.node, sub)

        async def deliver_once() -> None:
            nonlocal written
            # A retry after a lost done signal finds the reply written (412): still ours.
            written = await deliver(self.queue, self.store, reply_key, reply, taken) or written

        await self._keep_trying(deliver_once)
        share = self.usage.finished(job_id, sub)
        log_event(
            log,
            "job_answered",
            jobId=job_id,
            sub=sub,
            node=self.node,
            status=reply.status,
            errorCode=reply.error_code,
            latencyMs=reply.latency_ms,
            queuedMs=reply.queued_ms,
            finishReason=reply.finish_reason,
            promptTokens=reply.usage.prompt_tokens,
            completionTokens=reply.usage.completion_tokens,
            nodeSeconds=round(share.node_seconds, 3),
            bootSeconds=round(share.boot_seconds, 3),
            costEur=round(self.usage.cost(share.node_seconds), 6),
            written=written,
        )
        if written:  # a copy's reply written by another node is counted by that one
            self.usage.record_job(sub, reply, share)

    async def _keep_trying(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call` until it passes, backing off while Redis or S3 is unreachable."""
        backoff = Backoff(self.settings.redis_backoff_max_seconds)
        while True:
            try:
                result = await call()
            except QueueUnavailable as exc:
                delay = backoff.next_delay()
                self.health.failed(exc, delay)
            except ReplyStoreError as exc:
                delay = backoff.next_delay()
                log_event(
                    log, "reply_store_failed", logging.WARNING, error=exc.message,
                    retryInSeconds=delay,
                )  # fmt: skip
            else:
                self.health.answered()
                return result
            await self.health.pause(delay)
