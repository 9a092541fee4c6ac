"""The GPU node's daemon from start to exit: reclaim, boot, ready, consume, stop.

Start: put back what this node held in flight, heartbeat "loading", wait for the engine to
produce a token. Ready: heartbeat "ready", mark the seed's SSM parameter, arm the idle
timer, and only now start claiming. While the engine is down and restarting, EngineOutage
holds claims and the idle timer. Exit: when the idle stopper has stopped the node; when the
engine never produced a token or did not come back (EngineFailedStop stops the node); or on
SIGTERM/SIGINT after running jobs finish (bounded by shutdown_grace_seconds).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from tlfif.contracts import now_ms
from tlfif.errors import QueueUnavailable
from tlfif.nodes import NodeRegistry
from tlfif.ports import Metrics, ReadinessMarker, ReplyStore, SelfStop, UsageStore
from tlfif.queue import JobQueue
from tlfif.runtime.logs import log_event
from tlfif.settings import DEFAULT_NODE_HOUR_EUR, WatcherSettings
from watcher.claim_gate import ClaimGate
from watcher.consumer import Consumer
from watcher.engine import EngineClient
from watcher.engine_failed import EngineFailedStop
from watcher.engine_outage import EngineOutage, engine_comes_up
from watcher.heartbeat import HeartbeatLoop
from watcher.idle import IdleTimer
from watcher.idle_stop import IdleStopper
from watcher.job_runner import JobRunner
from watcher.redis_health import Backoff, RedisHealth
from watcher.strays import StrayClaims
from watcher.usage_keeper import UsageKeeper

log = logging.getLogger(__name__)

CANCEL_RECHECK_SECONDS = 1.0

# engine_failed: the node was asked to stop; engine_failed_running: that stop failed.
StopReason = Literal["idle", "shutdown", "engine_failed", "engine_failed_running"]
T = TypeVar("T")


@dataclass(frozen=True)
class NodePorts:
    """The outside world the node talks to besides Redis and its engine."""

    store: ReplyStore
    self_stop: SelfStop
    marker: ReadinessMarker
    metrics: Metrics
    # Each user's month (ADR 0034); None: a node that keeps no usage (the benches).
    usage: UsageStore | None = None


class WatcherNode:
    """One node's watcher. `run()` returns why it stopped; `request_shutdown()` is what
    the SIGTERM/SIGINT handler calls."""

    def __init__(
        self,
        settings: WatcherSettings,
        node_id: str,
        queue: JobQueue,
        registry: NodeRegistry,
        engine: EngineClient,
        ports: NodePorts,
        node_hour_eur: float = DEFAULT_NODE_HOUR_EUR,
        booted_at: float | None = None,
    ) -> None:
        """`booted_at`: when the node's boot began (time.monotonic()); by default this
        process's start, as on the node, where the watcher starts with the instance."""
        self.settings = settings
        self.usage = UsageKeeper(ports.usage, node_hour_eur, booted_at=booted_at)
        self.node_id = node_id
        self.queue = queue
        self.engine = engine
        self.ports = ports
        self.health = RedisHealth()
        self.idle = IdleTimer(cap_seconds=settings.idle_cap_seconds)
        self.gate = ClaimGate()
        self.strays = StrayClaims(node_id, queue)
        self.heartbeat = HeartbeatLoop(
            registry, node_id, settings.heartbeat_seconds, self.health, self.idle
        )
        self.outage = EngineOutage(
            engine, self.heartbeat, self.gate, self.idle, settings.readiness_timeout_seconds
        )
        self.runner = JobRunner(
            node_id, queue, ports.store, engine, self.outage, self.health, settings, self.usage
        )
        self.stopper = IdleStopper(
            self.idle, self.gate, self.heartbeat, registry, queue, ports.self_stop,
            ports.metrics, self.health, settings.redis_backoff_max_seconds, self.usage,
        )  # fmt: skip
        self.failed_stop = EngineFailedStop(
            node_id, queue, registry, self.runner, self.heartbeat, ports.self_stop,
            ports.metrics, settings.redis_backoff_max_seconds,
        )  # fmt: skip
        self._shutdown = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()

    def request_shutdown(self) -> None:
        self._shutdown.set()

    async def run(self) -> StopReason:
        log_event(log, "node_starting", node=self.node_id)
        beat = self._spawn(self.heartbeat.run(), "heartbeat")
        try:
            reason = await self._serve()
            if reason == "shutdown":
                self.heartbeat.set_state("stopping")
                await self.heartbeat.beat_once()
            await self.usage.settle()
            log_event(log, "node_exit", node=self.node_id, reason=reason)
            return reason
        finally:
            await self.outage.close()
            await cancel_all([beat, *self._background])

    async def _serve(self) -> StopReason:
        if not await self._unless_shutdown(self._reclaim()):
            return "shutdown"
        timeout = self.settings.readiness_timeout_seconds
        ready = await self._unless_shutdown(engine_comes_up(self.engine, timeout))
        if ready is None:
            return "shutdown"
        if not ready:
            log_event(log, "engine_not_ready", logging.ERROR, timeoutSeconds=timeout)
            self.outage.failed.set()
            return await self._stop_failed_node()
        self._become_ready()
        workers = [
            self._spawn(self._consumer().run(), f"worker-{n}")
            for n in range(self.settings.concurrency)
        ]
        reason = await self._until_stop(workers)
        await self.gate.close()
        await self._drain(workers)
        if reason == "engine_failed":
            return await self._stop_failed_node()
        return reason

    async def _reclaim(self) -> bool:
        """This node's own in-flight jobs go back to run next (a restart after a crash)."""
        backoff = Backoff(self.settings.redis_backoff_max_seconds)
        while True:
            try:
                moved = await self.queue.reclaim(self.node_id)
            except QueueUnavailable as exc:
                delay = backoff.next_delay()
                self.health.failed(exc, delay)
                await self.health.pause(delay)
                continue
            self.health.answered()
            log_event(log, "inflight_reclaimed", count=moved)
            return True

    async def _stop_failed_node(self) -> StopReason:
        timeout = self.settings.readiness_timeout_seconds
        message = (
            f"the node's engine produced no token within {timeout:g} s, so the node "
            "stopped itself; the next prompt starts it again"
        )
        stopped = await self.failed_stop.run(message)
        return "engine_failed" if stopped else "engine_failed_running"

    def _become_ready(self) -> None:
        self.heartbeat.set_state("ready")
        self.idle.mark_ready()
        self.usage.ready()
        self._spawn(self._mark_ready(now_ms()), "readiness-marker")
        log_event(log, "node_ready", node=self.node_id, idleSeconds=self.idle.window_seconds)

    async def _mark_ready(self, ready_ms: int) -> None:
        """The operators' SSM parameter. Off the claim path, and never fatal: the router
        reads readiness from the heartbeat, not from here."""
        try:
            instance_id = await asyncio.to_thread(self.ports.self_stop.instance_id)
            await asyncio.to_thread(self.ports.marker.mark_ready, instance_id, ready_ms)
        except Exception as exc:  # any adapter failure (IMDS, SSM, credentials) only logs
            log_event(log, "ready_mark_failed", logging.WARNING, error=repr(exc))

    def _consumer(self) -> Consumer:
        return Consumer(
            self.node_id, self.queue, self.runner, self.gate, self.idle, self.health,
            self.settings.claim_timeout_seconds, self.settings.redis_backoff_max_seconds,
            self.strays,
        )  # fmt: skip

    async def _until_stop(self, workers: list[asyncio.Task[None]]) -> StopReason:
        """Wait for the idle stop, an engine that will not come back, or a shutdown
        request; a worker that dies is a bug and ends the node loudly rather than leave it
        consuming at part strength."""
        stopper = self._spawn(self.stopper.run(), "idle-stopper")
        failed = self._spawn(self.outage.failed.wait(), "engine-failed")
        shutdown = self._spawn(self._shutdown.wait(), "shutdown")
        done, _ = await asyncio.wait(
            [stopper, failed, shutdown, *workers], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task in workers:
                task.result()  # raises the worker's error
                raise RuntimeError(f"{task.get_name()} ended on its own")
        if stopper in done:
            stopper.result()
            await cancel_all([failed])
            return "idle"
        await cancel_all([stopper, failed])
        return "engine_failed" if failed in done else "shutdown"

    async def _drain(self, workers: list[asyncio.Task[None]]) -> None:
        """Let running jobs finish; after the grace, what is left goes back to the queue
        with the rest of its lifetime (JobQueue.release): answered by the next node, or as
        expired, never left in flight for an hour behind a node that stays down."""
        grace = self.settings.shutdown_grace_seconds
        _, unfinished = await asyncio.wait(workers, timeout=grace) if workers else (set(), set())
        await cancel_all(unfinished)
        if unfinished:
            try:
                released = await self.queue.release(self.node_id)
            except QueueUnavailable as exc:
                # Left in flight: the reaper requeues them once this heartbeat lapses.
                log_event(log, "release_failed", logging.WARNING, error=exc.message)
                released = 0
            log_event(log, "drain_timeout", logging.WARNING, graceSeconds=grace, released=released)

    async def _unless_shutdown(self, work: Coroutine[Any, Any, T]) -> T | None:
        """`work`'s result, or None if a shutdown was requested first (work is cancelled)."""
        task = asyncio.ensure_future(work)
        shutdown = asyncio.ensure_future(self._shutdown.wait())
        await asyncio.wait([task, shutdown], return_when=asyncio.FIRST_COMPLETED)
        shutdown.cancel()
        if task.done():
            return task.result()
        await cancel_all([task])
        return None

    def _spawn(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended, cancelling again if one carries on:
    on Python 3.11 asyncio.wait_for (IdleTimer uses it) can swallow a cancel that lands as
    its inner wait completes (CPython gh-86296)."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_RECHECK_SECONDS)
