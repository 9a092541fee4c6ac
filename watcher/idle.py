"""The node's idle timer: when it expires, the watcher asks the stop script to stop the node.

Pure logic over an injected clock. It starts when the node is ready, restarts when a job
finishes or a wake-ahead comes (POST /wake, ADR 0029), and never expires while a job is in
flight; the stop script checks the pending
queue itself, since a job may be queued that this node has not claimed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from tlfif.contracts import DEFAULT_IDLE_MINUTES

# wait_expired re-reads the clock at least this often, so it keeps the seed's 1 s accuracy
# goal even if the clock it was given moves on its own (an injected clock, a resumed VM).
POLL_SECONDS = 0.5


class IdleTimer:
    """How long the node has left before it may stop itself."""

    def __init__(
        self,
        default_idle_seconds: float = DEFAULT_IDLE_MINUTES * 60,
        cap_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cap = cap_seconds
        self._clock = clock
        self._window = self._capped(default_idle_seconds)
        self._ready = False
        self._ready_at = 0.0
        self._deadline = 0.0
        self._wake_seen_ms = 0  # the latest wake note applied (its ts_ms)
        self._active = 0
        self._frozen = False
        self._changed = asyncio.Event()

    @property
    def window_seconds(self) -> float:
        """The idle window in force: the latest finished job's, capped."""
        return self._window

    @property
    def active_jobs(self) -> int:
        return self._active

    def mark_ready(self) -> None:
        """The engine answers: start counting. Calling it again changes nothing."""
        if not self._ready:
            self._ready = True
            self._ready_at = self._clock()
            self._deadline = self._ready_at + self._window
            self._changed.set()

    def job_started(self) -> None:
        self._active += 1
        self._changed.set()

    def job_finished(self, idle_minutes: int) -> None:
        """A job ended (answered or failed): its idle minutes become the window, which
        restarts now. With several jobs in flight, the one that finishes last decides."""
        if self._active == 0:
            raise RuntimeError("job_finished without a matching job_started")
        self._active -= 1
        self._window = self._capped(idle_minutes * 60)
        self.restart()

    def woken(self, wake_ms: int, idle_minutes: int, age_seconds: float) -> None:
        """A wake-ahead sent `age_seconds` ago (its note's ts_ms is `wake_ms`; a note seen
        before changes nothing): its minutes become the window, counted from the wake, or
        from ready when the wake is what booted the node. As with jobs, the latest wins."""
        if wake_ms <= self._wake_seen_ms:
            return
        self._wake_seen_ms = wake_ms
        self._window = self._capped(idle_minutes * 60)
        if self._ready:
            self._deadline = max(self._ready_at, self._clock() - age_seconds) + self._window
        self._changed.set()

    def restart(self) -> None:
        """Count the current window again from now, e.g. after the stop script declined
        because a job was pending. Does nothing before the node is ready."""
        if self._ready:
            self._deadline = self._clock() + self._window
        self._changed.set()

    def freeze(self) -> None:
        """Stop counting (the engine is down and restarting): a node must not stop itself
        for want of jobs it could not run."""
        self._frozen = True
        self._changed.set()

    def thaw(self) -> None:
        """Count again, the whole window from now."""
        self._frozen = False
        self.restart()

    def seconds_left(self) -> float | None:
        """Seconds until expiry; None while not ready, frozen, or a job is in flight."""
        if not self._ready or self._frozen or self._active > 0:
            return None
        return max(0.0, self._deadline - self._clock())

    def expired(self) -> bool:
        return self.seconds_left() == 0.0

    async def wait_expired(self) -> None:
        """Return once the timer has expired; any state change is taken into account."""
        while True:
            # No await between clear() and wait(): a change cannot slip in unseen.
            self._changed.clear()
            left = self.seconds_left()
            if left == 0.0:
                return
            timeout = POLL_SECONDS if left is None else min(left, POLL_SECONDS)
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
            # lands as its inner wait finishes (CPython gh-86296).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()

    def _capped(self, seconds: float) -> float:
        return seconds if self._cap is None else min(seconds, self._cap)
