"""The seed's resilience rule (1.3) for every call a send makes, whichever backend.

502/504 and connection errors are retried after 0.5 s, 1 s and 2 s; then the window says
"Server likely cold-starting (~90s). Will retry." and the calls go on until the wait's
deadline. A backend that says "busy, retry after N s" is waited out the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from gui.backend_errors import BackendBusy, BackendTransient, WaitAbandoned
from gui.log import log_event

RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0)
COLD_START_NOTICE = "Server likely cold-starting (~90s). Will retry."
# After the notice: how often to try again. A GPU node boots in ~90 s.
KEEP_TRYING_SECONDS = 10.0
DEFAULT_BUSY_SECONDS = 5.0

T = TypeVar("T")


class Retrying:
    """Runs calls under the retry rule until `deadline` (monotonic) or until `cancelled`."""

    def __init__(
        self,
        backend: str,
        notify: Callable[[str], None],
        cancelled: threading.Event,
        *,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._backend = backend
        self._notify = notify
        self._cancelled = cancelled
        self._deadline = deadline
        self._clock = clock
        # Event.wait: closing the window ends a pause at once, not after it.
        self._wait = sleep or cancelled.wait

    def call(self, attempt: Callable[[], T]) -> T:
        failures = 0
        while True:
            self._check()
            try:
                return attempt()
            except BackendTransient as exc:
                failures += 1
                pause = self._transient_pause(failures, exc)
                log_event("retry", self._backend, failures=failures, error=exc.detail, pause=pause)
            except BackendBusy as exc:
                pause = float(exc.retry_after or DEFAULT_BUSY_SECONDS)
                self._notify(f"{exc.message}; trying again in {pause:.0f} s")
                log_event("busy", self._backend, error=exc.detail, pause=pause)
            self._sleep(pause)

    def _transient_pause(self, failures: int, exc: BackendTransient) -> float:
        if failures <= len(RETRY_DELAYS_SECONDS):
            return RETRY_DELAYS_SECONDS[failures - 1]
        if failures == len(RETRY_DELAYS_SECONDS) + 1:
            # The cause too: "is `make up` running?" matters when it is no cold start.
            self._notify(f"{self._backend}: {COLD_START_NOTICE} ({exc.detail})")
        return KEEP_TRYING_SECONDS

    def _sleep(self, seconds: float) -> None:
        left = self._deadline - self._clock()
        self._wait(max(0.0, min(seconds, left)))

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise WaitAbandoned(self._backend, "the wait was cancelled")
        if self._clock() >= self._deadline:
            raise WaitAbandoned(self._backend, "no reply in time; the job may still be answered")
