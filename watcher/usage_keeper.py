"""The node's share of each job (tlfif/attribution.py) and each user's month (ADR 0034).

Boot is counted from the watcher's process start, read from /proc (the instance boots,
then systemd starts supervisord and it the watcher, some seconds the estimate leaves out),
to the engine's first token. Usage is written after the reply, off the worker's path:
a failure is logged and costs the reply nothing, since usage is an estimate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tlfif.attribution import LastJob, RunLedger, Share, cost_eur
from tlfif.contracts import Reply, now_ms
from tlfif.errors import UsageStoreError
from tlfif.ports import UsageStore
from tlfif.runtime.logs import log_event
from tlfif.spend import month_of
from tlfif.usage import idle_mark
from tlfif.usage_contracts import UsageDelta

log = logging.getLogger(__name__)

# How long the self-stop waits for usage writes still under way before the node goes down.
SETTLE_SECONDS = 5.0


def process_age_seconds() -> float:
    """Seconds since this process started: /proc/uptime less the process's start in clock
    ticks after boot (/proc/self/stat, field 22). 0 where /proc does not say."""
    try:
        with open("/proc/uptime", encoding="ascii") as uptime:
            up = float(uptime.read().split()[0])
        with open("/proc/self/stat", encoding="ascii") as stat:
            # The command name (field 2) may hold spaces: count fields after its ")".
            after_name = stat.read().rsplit(")", 1)[1].split()
        started = int(after_name[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, up - started)


@dataclass(frozen=True)
class IdleTail:
    """What the self-stop's audit event carries: the idle tail and its last job."""

    last: LastJob | None
    idle_seconds: float
    boot_seconds: float  # a boot no job carried (the node was woken and answered nothing)
    cost_eur: float

    @property
    def node_seconds(self) -> float:
        return self.idle_seconds + self.boot_seconds


class UsageKeeper:
    """One node's ledger and its usage writes."""

    def __init__(
        self,
        store: UsageStore | None,
        hour_eur: float,
        clock: Callable[[], float] = time.monotonic,
        booted_at: float | None = None,
    ) -> None:
        self.store = store
        self.hour_eur = hour_eur
        self._clock = clock
        start = booted_at if booted_at is not None else clock() - process_age_seconds()
        self.ledger = RunLedger(booted_at=start)
        self._writes: set[asyncio.Task[Any]] = set()

    def ready(self) -> None:
        self.ledger.ready(self._clock())

    def started(self, job_id: str) -> None:
        self.ledger.start(job_id, self._clock())

    def finished(self, job_id: str, sub: str) -> Share:
        return self.ledger.finish(job_id, sub, self._clock())

    def dropped(self, job_id: str) -> None:
        self.ledger.drop(job_id, self._clock())

    def cost(self, node_seconds: float) -> float:
        return cost_eur(node_seconds, self.hour_eur)

    def record_job(self, sub: str, reply: Reply, share: Share) -> None:
        """Add the answered job to its user's month, in the background."""
        delta = UsageDelta(
            prompts=1,
            prompt_tokens=reply.usage.prompt_tokens,
            completion_tokens=reply.usage.completion_tokens,
            node_seconds=share.node_seconds,
            cost_eur=self.cost(share.node_seconds),
        )
        self._spawn(sub, reply.id, delta)

    def idle_tail(self) -> IdleTail:
        idle = self.ledger.idle_tail(self._clock())
        boot = self.ledger.unclaimed_boot()
        return IdleTail(self.ledger.last, idle, boot, self.cost(idle + boot))

    async def record_idle(self, tail: IdleTail) -> None:
        """The idle tail goes to the last job's user; then wait for every write under way
        (bounded), since the node is about to go down."""
        if tail.last is not None:
            delta = UsageDelta(node_seconds=tail.node_seconds, cost_eur=tail.cost_eur)
            self._spawn(tail.last.sub, idle_mark(tail.last.job_id), delta)
        await self.settle()

    async def settle(self) -> None:
        """Wait for the usage writes under way (at most SETTLE_SECONDS): before the node
        stops, or the watcher exits, so the last jobs' usage is not lost with the process."""
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=SETTLE_SECONDS)

    def _spawn(self, sub: str, mark: str, delta: UsageDelta) -> None:
        if self.store is None:
            return
        task = asyncio.create_task(self._add(self.store, sub, mark, delta), name=f"usage-{mark}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _add(self, store: UsageStore, sub: str, mark: str, delta: UsageDelta) -> None:
        try:
            await store.add(month_of(now_ms()), sub, mark, delta)
        except UsageStoreError as exc:
            log_event(log, "usage_update_failed", logging.WARNING, mark=mark, error=exc.message)
