"""The node's heartbeat in Redis: what the router reads to know the node is loading, ready,
restarting its engine or stopping, without any AWS call. The beat's round trip also reads
the latest wake-ahead's note, which the idle timer applies (ADR 0029).

Each beat lives 3 x the interval, so one lost beat does not make a live node look dead,
while a dead node's jobs are requeued within a few intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from tlfif.contracts import HeartbeatState, now_ms
from tlfif.errors import QueueUnavailable
from tlfif.nodes import NodeRegistry
from watcher.idle import IdleTimer
from watcher.redis_health import RedisHealth

log = logging.getLogger(__name__)

TTL_INTERVALS = 3


class HeartbeatLoop:
    """Beats every `interval_seconds`, and at once whenever the state changes."""

    def __init__(
        self,
        registry: NodeRegistry,
        node: str,
        interval_seconds: float,
        health: RedisHealth,
        idle: IdleTimer,
    ) -> None:
        self.registry = registry
        self.node = node
        self.interval_seconds = interval_seconds
        self.ttl_seconds = TTL_INTERVALS * interval_seconds
        self.health = health
        self.idle = idle
        self._state: HeartbeatState = "loading"
        self._changed = asyncio.Event()
        # The stop script writes "stopping" itself; a beat must not slip in between its
        # decision and this loop learning of it, or "ready" would overwrite "stopping".
        self._lock = asyncio.Lock()

    @property
    def state(self) -> HeartbeatState:
        return self._state

    def set_state(self, state: HeartbeatState) -> None:
        if state != self._state:
            self._state = state
            self._changed.set()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """No beat is written inside this block."""
        async with self._lock:
            yield

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            self._changed.clear()
            await self.beat_once()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that lands as the event fires (CPython gh-86296), and this loop would go on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_seconds):
                    await self._changed.wait()

    async def beat_once(self) -> bool:
        """One beat; False (and the outage logged) when Redis did not take it."""
        async with self._lock:
            try:
                idle_seconds, idle_since_ms = self._idle_window()
                note = await self.registry.beat(
                    self.node,
                    self._state,
                    self.ttl_seconds,
                    active=self.idle.active_jobs,
                    idle_seconds=idle_seconds,
                    idle_since_ms=idle_since_ms,
                )
            except QueueUnavailable as exc:
                self.health.failed(exc, self.interval_seconds)
                return False
        self.health.answered()
        if note is not None:
            age_seconds = max(0.0, (now_ms() - note.ts_ms) / 1000)
            self.idle.woken(note.ts_ms, note.idle, age_seconds)
        return True

    def _idle_window(self) -> tuple[float | None, int | None]:
        """The idle window and when it began (wall clock), for the scheduled check's safety
        net; None while a job runs or before ready: there is nothing to time then."""
        left = self.idle.seconds_left()
        if left is None:
            return None, None
        window = self.idle.window_seconds
        return window, now_ms() - int((window - left) * 1000)
