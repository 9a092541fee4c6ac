"""When the idle timer runs out: ask the stop script, and if it agrees, stop the node.

The order matters (ARCHITECTURE.md, "Node lifecycle"): claims are paused first, so no job
slips into this node between the script's "nothing pending" and the stop; the script then
marks the heartbeat "stopping" in the same step, so a prompt arriving later starts the
node again instead of waiting on a node that is going away.
"""

from __future__ import annotations

import asyncio
import logging

from tlfif.contracts import now_ms
from tlfif.errors import NodeControlError, QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.ports import Metrics, SelfStop
from tlfif.queue import JobQueue
from tlfif.runtime.logs import log_audit, log_event
from watcher.claim_gate import ClaimGate
from watcher.heartbeat import HeartbeatLoop
from watcher.idle import IdleTimer
from watcher.redis_health import Backoff, RedisHealth
from watcher.usage_keeper import UsageKeeper

log = logging.getLogger(__name__)

AUTO_STOPS_METRIC = "AutoStops"


class IdleStopper:
    """Waits for the idle timer, then stops the node through the one stop script."""

    def __init__(
        self,
        idle: IdleTimer,
        gate: ClaimGate,
        heartbeat: HeartbeatLoop,
        registry: NodeRegistry,
        queue: JobQueue,
        self_stop: SelfStop,
        metrics: Metrics,
        health: RedisHealth,
        backoff_max_seconds: float,
        usage: UsageKeeper,
    ) -> None:
        self.usage = usage
        self.idle = idle
        self.gate = gate
        self.heartbeat = heartbeat
        self.registry = registry
        self.queue = queue
        self.self_stop = self_stop
        self.metrics = metrics
        self.health = health
        self.backoff = Backoff(backoff_max_seconds)

    async def run(self) -> None:
        """Return once the node has asked the cloud to stop it (claims stay paused)."""
        while True:
            await self.idle.wait_expired()
            await self.gate.pause()
            stopped = False
            try:
                stopped = await self._try_stop()
            finally:
                if not stopped:
                    await self.gate.resume()
            if stopped:
                return

    async def _try_stop(self) -> bool:
        if not self.idle.expired():
            return False  # a claim under way took a job while the gate was pausing
        try:
            # A wake-ahead since the last beat: the user is about to send (ADR 0029).
            if await self._woken_meanwhile():
                return False
            allowed = await self._stop_script()
        except QueueUnavailable as exc:
            delay = self.backoff.next_delay()
            self.health.failed(exc, delay)
            await self.health.pause(delay)  # the timer stays expired: try again after this
            return False
        self.backoff.reset()
        self.health.answered()
        if not allowed:
            log_event(log, "idle_stop_declined", reason="jobs waiting")
            self.idle.restart()
            return False
        return await self._stop_self()

    async def _woken_meanwhile(self) -> bool:
        note = await self.registry.wake_note()
        if note is not None:
            self.idle.woken(note.ts_ms, note.idle, max(0.0, (now_ms() - note.ts_ms) / 1000))
        return not self.idle.expired()

    async def _stop_script(self) -> bool:
        node = self.heartbeat.node
        # With claims paused and no job running, anything in this node's in-flight list
        # was moved by a claim whose answer was lost (a dropped connection); run it again
        # rather than let it hold the node up for ever.
        orphans = await self.queue.reclaim(node)
        if orphans:
            log_event(log, "orphans_requeued", logging.WARNING, count=orphans)
        async with self.heartbeat.held():
            allowed = await self.registry.try_mark_stopping(node, self.heartbeat.ttl_seconds)
            if allowed:
                self.heartbeat.set_state("stopping")
        return allowed

    async def _stop_self(self) -> bool:
        window = self.idle.window_seconds
        try:
            await asyncio.to_thread(self.self_stop.stop_self)
        except NodeControlError as exc:
            # Keep serving and try again after another idle window, rather than leave a
            # GPU running with nothing watching it.
            log_event(log, "self_stop_failed", logging.ERROR, error=exc.message)
            self.heartbeat.set_state("ready")
            self.idle.restart()
            return False
        self.metrics.count(AUTO_STOPS_METRIC)
        log_event(log, "auto_stop", idleSeconds=window)
        await self._audit_stop()
        return True

    async def _audit_stop(self) -> None:
        """The self-stop's audit event: the idle tail goes to the last job (ADR 0034), and
        to its user's month, written before the node goes down."""
        tail = self.usage.idle_tail()
        last = tail.last
        log_audit(
            log,
            "self_stop",
            last.sub if last is not None else self.heartbeat.node,
            "stopped",
            node=self.heartbeat.node,
            lastJobId=last.job_id if last is not None else None,
            idleSeconds=round(tail.idle_seconds, 3),
            bootSeconds=round(tail.boot_seconds, 3),
            nodeSeconds=round(tail.node_seconds, 3),
            costEur=round(tail.cost_eur, 6),
        )
        await self.usage.record_idle(tail)
