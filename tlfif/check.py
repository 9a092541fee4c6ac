"""The scheduled check (each minute: EventBridge on AWS, a loop locally): what the router
and the watcher do on their own paths, done once more in case neither is there to do it.

One run, in order:
1. requeue the in-flight jobs of nodes whose heartbeat lapsed;
2. answer jobs that expired while pending (every job gets a reply), drop ids nobody owns;
3. note whether the node runs (heartbeat, else EC2) in the uptime ledger GET /cost reads,
   and count the nodes running with no heartbeat past a boot grace (NodesSilent, ADR 0033);
4. then one of: under a budget hold, stop whatever still runs; with jobs pending, start
   the node unless a hold is set (a `--no-wait` client polls nothing that would); else
   stop a node idle for its idle time plus the grace (the watcher failed to).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tlfif import keys
from tlfif.budget import enforce_budget
from tlfif.contracts import HoldKind, now_ms
from tlfif.delivery import answer_if_expired
from tlfif.errors import NodeControlError, ReplyStoreError
from tlfif.idle_net import ActivityStore, updated_activity
from tlfif.nodes import Heartbeat, NodeRegistry, NodeView
from tlfif.ports import Metrics, NodeControl, NodeFleet, ReplyStore
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, queue_errors
from tlfif.settings import CheckSettings
from tlfif.silent import NODES_SILENT_METRIC, NodeLaunches, silent_nodes
from tlfif.uptime import UptimeStore
from tlfif.wake import NodeWaker, Scaling

log = logging.getLogger(__name__)

SAFETY_NET_STOPS_METRIC = "SafetyNetStops"
QUEUE_DEPTH_METRIC = "QueueDepth"
UP_STATES = ("pending", "running")
# A "stopping" mark written for a node the check stops; the watcher's own beat TTL.
STOPPING_TTL_SECONDS = 15


@dataclass(frozen=True)
class CheckPorts:
    # Built on first use: a run that finds a heartbeat needs no EC2 call at all.
    node_control: Callable[[], NodeControl]
    fleet: Callable[[], NodeFleet]
    replies: ReplyStore
    metrics: Metrics


@dataclass
class CheckReport:
    requeued: dict[str, int] = field(default_factory=dict)
    expired: int = 0
    queue_depth: int = 0
    hold: HoldKind | None = None
    node_up: bool | None = None  # None: EC2 could not be asked
    nodes_silent: int | None = None  # None: not counted (EC2 could not be asked)
    # none | started | start_failed | held_manual | held_engine_failed | idle_stop |
    # idle_stop_failed | budget_stop | budget_stop_failed | scaled_out (ADR 0032)
    action: str = "none"


async def run_check(
    redis: RedisClient,
    ports: CheckPorts,
    settings: CheckSettings,
    *,
    clock: Callable[[], int] = now_ms,
    scaling: Scaling | None = None,
    launches: NodeLaunches | None = None,
) -> CheckReport:
    """One run of the check. Raises QueueUnavailable when Redis fails. NodesSilent is
    counted when `launches` (EC2's launch times) is given, as the Lambda and the local
    loop give it."""
    return await ScheduledCheck(redis, ports, settings, clock, scaling, launches).run()


class ScheduledCheck:
    def __init__(
        self,
        redis: RedisClient,
        ports: CheckPorts,
        settings: CheckSettings,
        clock: Callable[[], int],
        scaling: Scaling | None = None,
        launches: NodeLaunches | None = None,
    ) -> None:
        self.redis = redis
        self.launches = launches
        self.node_count_max = (scaling or Scaling()).node_count_max
        self.ports = ports
        self.settings = settings
        self.clock = clock
        self.queue = JobQueue(redis)
        self.registry = NodeRegistry(redis)
        self.activity = ActivityStore(redis)
        self.waker = NodeWaker(
            self.registry,
            ports.node_control,
            ports.metrics,
            state_cache_seconds=settings.ec2_state_cache_seconds,
            lock_seconds=settings.start_lock_seconds,
            scaling=scaling,
        )

    async def run(self) -> CheckReport:
        report = CheckReport(requeued=await self.queue.requeue_orphans())
        report.expired = await self._answer_expired()
        report.queue_depth = await self.queue.depth()
        self.ports.metrics.count(QUEUE_DEPTH_METRIC, report.queue_depth)
        report.hold = await self.registry.hold()
        beats = await self.registry.heartbeats()
        report.node_up = True if beats else await self._ec2_says_up()
        now = self.clock()
        if report.node_up is not None:
            await UptimeStore(self.redis).observe(report.node_up, now)
        report.nodes_silent = await self._count_silent(beats, report.node_up, now)
        if report.hold == "budget":
            report.action = await self._enforce_budget(report.node_up)
        elif report.queue_depth > 0:
            report.action = await self._wake()
            if report.action == "none" and beats:
                view = NodeView(report.hold, beats, await self.registry.cached_ec2_state())
                if await self.waker.scale_out(view, report.queue_depth):
                    report.action = "scaled_out"
        if report.node_up is False:
            await self.activity.forget()
        elif report.node_up and report.action == "none":
            report.action = await self._idle_net(beats, report.queue_depth, now)
        return report

    async def _answer_expired(self) -> int:
        limit = self.settings.expired_scan_limit
        with queue_errors():
            # The oldest ids sit at the right end (claims take from there).
            ids = [str(i) for i in await self.redis.lrange(keys.PENDING, -limit, -1)]
        answered = 0
        for job_id in dict.fromkeys(ids):
            try:
                if await answer_if_expired(self.queue, self.ports.replies, job_id):
                    answered += 1
                elif not await self._exists(keys.job(job_id), keys.owner(job_id)):
                    # Neither the job nor its owner is left: no one to answer, and a ghost
                    # id would make every run start the node for nothing.
                    with queue_errors():
                        await self.redis.lrem(keys.PENDING, 0, job_id)
            except ReplyStoreError as exc:
                log.warning("expired job not answered yet", extra={"id": job_id, "error": exc})
        return answered

    async def _count_silent(
        self, beats: list[Heartbeat], node_up: bool | None, now: int
    ) -> int | None:
        """Publishes NodesSilent; None (nothing published, which the alarm takes as not
        breaching) when EC2 cannot be asked. No EC2 call when the answer is known: the
        fleet is down, or every node it may have beats."""
        if self.launches is None:
            return None
        if node_up is False or len(beats) >= self.node_count_max:
            silent: list[str] = []
        else:
            try:
                running = await asyncio.to_thread(self.launches.running_since)
            except NodeControlError as exc:
                log.warning("EC2 launch times unknown", extra={"error": exc.message})
                return None
            silent = silent_nodes(running, beats, now)
        if silent:
            log.warning("nodes running with no heartbeat", extra={"nodes": silent})
        self.ports.metrics.count(NODES_SILENT_METRIC, len(silent))
        return len(silent)

    async def _ec2_says_up(self) -> bool | None:
        cached = await self.registry.cached_ec2_state()
        if cached is not None:
            return cached in UP_STATES
        try:
            state = await asyncio.to_thread(self.waker.control.state)
        except NodeControlError as exc:
            log.warning("EC2 state unknown", extra={"error": exc.message})
            return None
        return state in UP_STATES

    async def _enforce_budget(self, node_up: bool | None) -> str:
        if node_up is False:
            return "none"
        try:
            stopped = await enforce_budget(
                self.registry, self.ports.fleet(), self.ports.metrics, datetime.now(UTC)
            )
        except NodeControlError as exc:
            log.error("budget hold: stop failed", extra={"error": exc.message})
            return "budget_stop_failed"
        return "budget_stop" if stopped else "none"

    async def _wake(self) -> str:
        wake = await self.waker.ensure_awake()
        if wake.held:
            return f"held_{wake.held}"  # held_manual, held_engine_failed: left stopped
        if wake.error:
            return "start_failed"
        return "started" if wake.started else "none"

    async def _idle_net(self, beats: list[Heartbeat], depth: int, now: int) -> str:
        busy = depth > 0 or any(beat.active > 0 for beat in beats)
        for beat in beats:
            busy = busy or await self._exists(keys.inflight(beat.node))
        activity = updated_activity(
            await self.activity.load(), beats, busy, now, self.settings.fallback_idle_seconds
        )
        await self.activity.save(activity)
        if now < activity.deadline_ms(self.settings.idle_grace_seconds):
            return "none"
        return await self._stop_idle_node(beats, now - activity.last_used_ms)

    async def _stop_idle_node(self, beats: list[Heartbeat], idle_ms: int) -> str:
        # Through the one stop script: a job that arrived since is not stranded.
        for beat in beats:
            if not await self.registry.try_mark_stopping(beat.node, STOPPING_TTL_SECONDS):
                return "none"
        try:
            state = await asyncio.to_thread(self.waker.control.stop)
        except NodeControlError as exc:
            log.error("idle node not stopped", extra={"error": exc.message})
            return "idle_stop_failed"
        await self.registry.remember_fleet_stopped(state, self.settings.ec2_state_cache_seconds)
        await self.activity.forget()
        self.ports.metrics.count(SAFETY_NET_STOPS_METRIC)
        log.warning("idle node stopped by the safety net", extra={"idleSeconds": idle_ms // 1000})
        return "idle_stop"

    async def _exists(self, *names: str) -> bool:
        with queue_errors():
            return bool(await self.redis.exists(*names))
