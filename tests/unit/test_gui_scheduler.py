"""gui/scheduler.py: work runs off the UI thread; results come back through the pump that
Tk's after() repeats, on the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gui.scheduler import PUMP_INTERVAL_MS, ThreadedScheduler


@dataclass
class TimersDouble:
    """Tk's after/after_cancel, fired by the test."""

    pending: dict[str, tuple[int, Callable[[], Any]]] = field(default_factory=dict)
    serial: int = 0

    def after(self, ms: int, func: Callable[[], Any]) -> str:
        self.serial += 1
        ident = f"after#{self.serial}"
        self.pending[ident] = (ms, func)
        return ident

    def after_cancel(self, id: str) -> None:
        self.pending.pop(id, None)

    def fire_all(self) -> None:
        due, self.pending = self.pending, {}
        for _, func in due.values():
            func()


def test_work_runs_on_another_thread_and_its_result_on_the_pumping_thread() -> None:
    timers = TimersDouble()
    scheduler = ThreadedScheduler(timers)
    ui_thread = threading.get_ident()
    ran_on: list[int] = []
    results: list[tuple[int, int]] = []
    finished = threading.Event()

    def work() -> int:
        ran_on.append(threading.get_ident())
        finished.set()
        return 42

    scheduler.run(work, lambda value: results.append((value, threading.get_ident())), print)
    assert finished.wait(10)
    while not results:
        scheduler.pump()
    assert ran_on != [ui_thread]
    assert results == [(42, ui_thread)]


def test_a_failure_comes_back_as_the_exception() -> None:
    scheduler = ThreadedScheduler(TimersDouble())
    errors: list[Exception] = []
    scheduler.run(lambda: 1 // 0, print, errors.append)
    while not errors:
        scheduler.pump()
    assert isinstance(errors[0], ZeroDivisionError)


def test_the_pump_repeats_through_after_until_stopped() -> None:
    timers = TimersDouble()
    scheduler = ThreadedScheduler(timers)
    scheduler.start()
    assert [ms for ms, _ in timers.pending.values()] == [PUMP_INTERVAL_MS]
    posted: list[str] = []
    scheduler.post(lambda: posted.append("ran"))
    timers.fire_all()
    assert posted == ["ran"] and len(timers.pending) == 1
    scheduler.stop()
    timers.fire_all()
    assert timers.pending == {}


def test_one_broken_callback_does_not_stop_the_others() -> None:
    scheduler = ThreadedScheduler(TimersDouble())
    ran: list[str] = []
    scheduler.post(lambda: [][0])
    scheduler.post(lambda: ran.append("second"))
    scheduler.pump()
    assert ran == ["second"]


def test_later_is_a_cancellable_tk_timer() -> None:
    timers = TimersDouble()
    cancel = ThreadedScheduler(timers).later(30, lambda: None)
    assert [ms for ms, _ in timers.pending.values()] == [30_000]
    cancel()
    assert timers.pending == {}
