"""How work leaves the Tk thread and how its results come back: the UI never blocks.

Work runs on daemon threads (a long poll in flight must not hold the app open on close);
what they hand back is queued and run on the Tk thread by a pump that `after()` repeats.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from gui.log import logger

T = TypeVar("T")
PUMP_INTERVAL_MS = 50

Cancel = Callable[[], None]


class Scheduler(Protocol):
    def run(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        """`work` off the UI thread; then `done(result)` or `failed(error)` on it."""
        ...

    def post(self, action: Callable[[], None]) -> None:
        """Run `action` on the UI thread soon. Callable from any thread."""
        ...

    def later(self, seconds: float, action: Callable[[], None]) -> Cancel:
        """Run `action` on the UI thread after `seconds`; the result cancels it."""
        ...


class Timers(Protocol):
    """Tk's timer calls (any widget has them)."""

    def after(self, ms: int, func: Callable[[], Any]) -> str: ...

    def after_cancel(self, id: str) -> None: ...


class ThreadedScheduler:
    def __init__(self, timers: Timers, pump_interval_ms: int = PUMP_INTERVAL_MS) -> None:
        self._timers = timers
        self._interval = pump_interval_ms
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stopped = False

    def start(self) -> None:
        self._timers.after(self._interval, self._pump)

    def stop(self) -> None:
        self._stopped = True

    def run(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        def body() -> None:
            try:
                result = work()
            except Exception as exc:
                # partial, not a lambda: Python unbinds `exc` when the except block ends.
                self.post(functools.partial(failed, exc))
            else:
                self.post(functools.partial(done, result))

        threading.Thread(target=body, name="tlfif-gui-work", daemon=True).start()

    def post(self, action: Callable[[], None]) -> None:
        self._inbox.put(action)

    def later(self, seconds: float, action: Callable[[], None]) -> Cancel:
        ident = self._timers.after(max(1, int(seconds * 1000)), action)
        return lambda: self._timers.after_cancel(ident)

    def pump(self) -> None:
        """Run everything the worker threads handed back (on the UI thread)."""
        while True:
            try:
                action = self._inbox.get_nowait()
            except queue.Empty:
                return
            try:
                action()
            except Exception:
                # One broken callback must not stop the pump, or the window would freeze.
                logger.exception("callback failed")

    def _pump(self) -> None:
        if self._stopped:
            return
        self.pump()
        self._timers.after(self._interval, self._pump)
