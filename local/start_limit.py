"""systemd's start rate limit, for the engine the node agent restarts.

On the node, vllm.service restarts vLLM after a crash until StartLimitBurst starts have
happened within StartLimitIntervalSec; then the unit stays failed. The agent follows the
same rule, so the local stack shows what a node does when its engine keeps dying.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class StartLimit:
    """At most `burst` starts within any `interval_seconds` (every start counts, the first too)."""

    def __init__(
        self, burst: int, interval_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._starts: deque[float] = deque()

    def try_start(self) -> bool:
        """Count a start now if the limit allows it; False (nothing counted) if not."""
        now = self._clock()
        while self._starts and now - self._starts[0] >= self.interval_seconds:
            self._starts.popleft()
        if len(self._starts) >= self.burst:
            return False
        self._starts.append(now)
        return True

    @property
    def starts(self) -> int:
        """Starts counted within the interval, as of the last try_start()."""
        return len(self._starts)

    def reset(self) -> None:
        """A new boot: systemd's counters start afresh with the machine."""
        self._starts.clear()
