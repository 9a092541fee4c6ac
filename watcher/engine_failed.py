"""The node's last act when its engine will not produce a token: stop, and say why.

At boot (the engine never came up) or after a crash (it did not come back within the
readiness setting), a GPU running with nothing to show for it is the bill this project
exists to avoid, and starting it again for the same queue would loop it. So, in order:
1. record the start error `engine_failed` (kind "engine"): from now on polls and the
   scheduled check leave the node stopped; the next POST /infer starts it again;
2. heartbeat "stopping";
3. answer the jobs that were waiting for this engine, "error" / engine_failed, so none is
   left pending to restart the node; a prompt sent after the failure stays queued for the
   start it asked for; with another node ready, the queue is left to it;
4. stop the instance.
Same on AWS and locally: the watcher, not systemd or the node agent, decides the stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tlfif.errors import QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.ports import Metrics, SelfStop
from tlfif.queue import Claim, JobQueue
from tlfif.runtime.logs import log_event
from watcher.heartbeat import HeartbeatLoop
from watcher.job_runner import JobRunner
from watcher.redis_health import Backoff

log = logging.getLogger(__name__)

FAILURE_CODE = "engine_failed"
STOPS_METRIC = "EngineFailedStops"
# Redis may be down too; the GPU must stop anyway, so each Redis step gets a few tries,
# and answering the waiting jobs at most this long (what is left is requeued by the reaper
# once the heartbeat lapses, and answered by the next start or its TTL).
REDIS_TRIES = 5
ANSWER_SECONDS = 60.0

T = TypeVar("T")


class EngineFailedStop:
    def __init__(
        self,
        node: str,
        queue: JobQueue,
        registry: NodeRegistry,
        runner: JobRunner,
        heartbeat: HeartbeatLoop,
        self_stop: SelfStop,
        metrics: Metrics,
        backoff_max_seconds: float,
    ) -> None:
        self.node = node
        self.queue = queue
        self.registry = registry
        self.runner = runner
        self.heartbeat = heartbeat
        self.self_stop = self_stop
        self.metrics = metrics
        self.backoff_max_seconds = backoff_max_seconds

    async def run(self, message: str) -> bool:
        """Steps 1-4; True once the cloud was asked to stop the instance."""
        failure = await self._redis_step(
            "record", lambda: self.registry.record_failure("engine", FAILURE_CODE, message)
        )
        self.heartbeat.set_state("stopping")
        await self.heartbeat.beat_once()
        failed_ms = failure.ts_ms if failure is not None else None
        answered = await self._redis_step("answer", lambda: self._answer_waiting(failed_ms))
        log_event(log, "engine_failed_stop", logging.ERROR, answered=answered)
        try:
            await asyncio.to_thread(self.self_stop.stop_self)
        except Exception as exc:  # any adapter failure (IMDS, EC2): say so, loudly
            log_event(log, "self_stop_failed", logging.ERROR, error=repr(exc))
            return False
        self.metrics.count(STOPS_METRIC)
        return True

    async def _answer_waiting(self, failed_ms: int | None) -> int:
        """Answer this node's in-flight jobs and the pending ones older than the failure."""
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                return await self._answer_each(failed_ms)
        except TimeoutError:
            log_event(log, "engine_failed_answers_cut", logging.WARNING, seconds=ANSWER_SECONDS)
            return 0

    async def _answer_each(self, failed_ms: int | None) -> int:
        await self.queue.reclaim(self.node)  # left over from a drain cut short
        if any(beat.state == "ready" for beat in await self.registry.heartbeats()):
            return 0  # another node serves the queue
        answered = 0
        while (job_id := await self.queue.take_next(self.node)) is not None:
            owner = await self.queue.owner(job_id)
            if failed_ms is None or (owner is not None and owner.created_ms > failed_ms):
                # Sent after the failure (that prompt lifted it): back to the head of the
                # queue, for the start it asked for.
                await self.queue.reclaim(self.node)
                break
            await self.runner.answer(Claim(job_id))  # the engine has failed: "engine_failed"
            answered += 1
        return answered

    async def _redis_step(self, what: str, step: Callable[[], Awaitable[T]]) -> T | None:
        backoff = Backoff(self.backoff_max_seconds)
        for _ in range(REDIS_TRIES):
            try:
                return await step()
            except QueueUnavailable as exc:
                delay = backoff.next_delay()
                log_event(log, "engine_failed_step", logging.WARNING, step=what, error=exc.message)
                await asyncio.sleep(delay)
        return None
