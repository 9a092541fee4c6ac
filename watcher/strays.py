"""Jobs in this node's in-flight list that no slot holds, given back to the queue.

A claim is a BLMOVE. When Redis is frozen or slow, the client gives up waiting for the
answer, but Redis may still run the move once it resumes: the id then sits in this node's
in-flight list while no slot runs it, and the heartbeat keeps the reaper away, so nothing
would ever answer it. After such a failed claim the consumers sweep the list: an id no slot
holds in two sweeps at least SWEEP_GAP_SECONDS apart (a claim that has just returned is
held at once) goes back to the pending list, to run next.

The sweeps go on for WATCH_SECONDS after Redis answers again, not only until one finds the
list clean: the stale command may run after the first sweep (it sat in a socket Redis reads
in its own order once it resumes; the chaos suite caught one landing 0.6 s after a freeze).
"""

from __future__ import annotations

import logging
import time

from tlfif.queue import JobQueue
from tlfif.runtime.logs import log_event

log = logging.getLogger(__name__)

SWEEP_GAP_SECONDS = 1.0
# How long after the first answer that follows a failed claim the list is still swept.
WATCH_SECONDS = 15.0


class StrayClaims:
    def __init__(self, node: str, queue: JobQueue) -> None:
        self.node = node
        self.queue = queue
        self._held: set[str] = set()
        self._suspects: set[str] = set()
        self._failed = False
        self._watch_until = 0.0
        self._last_sweep = 0.0

    def hold(self, job_id: str) -> None:
        self._held.add(job_id)

    def release(self, job_id: str) -> None:
        self._held.discard(job_id)

    def claim_failed(self) -> None:
        """A claim's answer was lost: its move may still have happened."""
        self._failed = True

    async def sweep(self) -> int:
        """Requeue the confirmed strays; returns how many. Called after each claim Redis
        answered. Raises QueueUnavailable."""
        now = time.monotonic()
        if self._failed:  # the first answer since: watch the list from here
            self._failed = False
            self._watch_until = now + WATCH_SECONDS
        due = now < self._watch_until or self._suspects
        if not due or now - self._last_sweep < SWEEP_GAP_SECONDS:
            return 0
        self._last_sweep = now
        strays = set(await self.queue.in_flight(self.node)) - self._held
        confirmed = strays & self._suspects
        self._suspects = strays - confirmed
        if not confirmed:
            return 0
        moved = await self.queue.give_back(self.node, sorted(confirmed))
        log_event(log, "stray_claims_requeued", logging.WARNING, count=moved)
        return moved
