"""One worker of the consume loop: claim the next job, answer it, repeat.

The node runs `concurrency` of these side by side, because vLLM batches concurrent
requests: one job at a time would leave most of the GPU idle.
"""

from __future__ import annotations

import asyncio
import logging

from tlfif.errors import QueueUnavailable
from tlfif.queue import Claim, JobQueue
from tlfif.runtime.logs import log_event
from watcher.claim_gate import ClaimGate
from watcher.idle import IdleTimer
from watcher.job_runner import JobRunner
from watcher.redis_health import Backoff, RedisHealth
from watcher.strays import StrayClaims

log = logging.getLogger(__name__)


class Consumer:
    """Claims through the gate and tells the idle timer when each job starts and ends."""

    def __init__(
        self,
        node: str,
        queue: JobQueue,
        runner: JobRunner,
        gate: ClaimGate,
        idle: IdleTimer,
        health: RedisHealth,
        claim_timeout_seconds: float,
        backoff_max_seconds: float,
        strays: StrayClaims,
    ) -> None:
        self.node = node
        self.queue = queue
        self.runner = runner
        self.gate = gate
        self.idle = idle
        self.health = health
        self.claim_timeout_seconds = claim_timeout_seconds
        self.backoff = Backoff(backoff_max_seconds)
        self.strays = strays

    async def run(self) -> None:
        """Work until the gate closes."""
        while True:
            async with self.gate.claiming() as admitted:
                if not admitted:
                    return
                claim, retry_in = await self._claim()
                if claim is not None:
                    self.strays.hold(claim.id)
                    # Before leaving the gate: a paused gate means no job claimed unstarted.
                    self.idle.job_started()
            if claim is not None:
                try:
                    self.idle.job_finished(await self._answer(claim))
                finally:
                    self.strays.release(claim.id)
            elif retry_in:
                # Outside the gate, so a stop decision never waits on a backoff.
                await self.health.pause(retry_in)

    async def _claim(self) -> tuple[Claim | None, float]:
        """The next job (or None when the wait ran out), and how long to back off."""
        try:
            claim = await self.queue.claim(self.node, self.claim_timeout_seconds)
        except QueueUnavailable as exc:
            self.strays.claim_failed()
            delay = self.backoff.next_delay()
            self.health.failed(exc, delay)
            return None, delay
        try:
            await self.strays.sweep()
        except QueueUnavailable:
            self.strays.claim_failed()  # sweep again next time
        self.backoff.reset()
        self.health.answered()
        if claim is not None:
            # DEBUG: the job's one INFO line is job_answered, at its end.
            log_event(log, "job_claimed", logging.DEBUG, jobId=claim.id)
        return claim, 0.0

    async def _answer(self, claim: Claim) -> int:
        try:
            return await self.runner.answer(claim)
        except asyncio.CancelledError:
            # Cut off by the shutdown grace: the node gives the job back (JobQueue.release).
            log_event(log, "job_abandoned", logging.WARNING, jobId=claim.id)
            raise
