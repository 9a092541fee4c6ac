"""gui/resilience.py: 502/504 and connection errors retried after 0.5, 1 and 2 s, then
"Server likely cold-starting (~90s). Will retry." and the waiting goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from gui.backend_errors import BackendBusy, BackendRefused, BackendTransient, WaitAbandoned
from gui.resilience import COLD_START_NOTICE, KEEP_TRYING_SECONDS, Retrying
from tests.doubles.gui_doubles import ManualClockDouble

BACKEND = "AWS TinyLlama"


def flaky(failures: list[Exception], result: str = "ok") -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result

    return calls, attempt


def retrying(
    clock: ManualClockDouble,
    notices: list[str],
    *,
    cancelled: threading.Event | None = None,
    budget: float = 900.0,
) -> Retrying:
    return Retrying(
        BACKEND,
        notices.append,
        cancelled or threading.Event(),
        deadline=clock() + budget,
        clock=clock,
        sleep=clock.sleep,
    )


def test_three_retries_at_half_one_and_two_seconds_then_success() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    calls, attempt = flaky([BackendTransient(BACKEND, "HTTP 502") for _ in range(3)])
    assert retrying(clock, notices).call(attempt) == "ok"
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert len(calls) == 4
    assert notices == []  # recovered within the retries: nothing to say


def test_after_three_failed_retries_the_pane_hears_of_a_cold_start_and_waiting_goes_on() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    _calls, attempt = flaky([BackendTransient(BACKEND, "HTTP 504") for _ in range(7)])
    assert retrying(clock, notices).call(attempt) == "ok"
    # Once, naming the backend and what failed.
    assert notices == [f"{BACKEND}: {COLD_START_NOTICE} (HTTP 504)"]
    assert clock.sleeps == [0.5, 1.0, 2.0] + [KEEP_TRYING_SECONDS] * 4
    assert COLD_START_NOTICE == "Server likely cold-starting (~90s). Will retry."


def test_busy_answers_are_waited_out_for_their_retry_after() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    busy = BackendBusy(BACKEND, "throttled", retry_after=7)
    _calls, attempt = flaky([busy])
    assert retrying(clock, notices).call(attempt) == "ok"
    assert clock.sleeps == [7.0]
    assert notices == [f"{BACKEND}: throttled; trying again in 7 s"]


def test_a_final_error_is_not_retried() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    calls, attempt = flaky([BackendRefused(BACKEND, "budget hold")])
    with pytest.raises(BackendRefused):
        retrying(clock, notices).call(attempt)
    assert len(calls) == 1
    assert clock.sleeps == []


def test_waiting_ends_at_the_deadline_naming_the_backend() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    _calls, attempt = flaky([BackendTransient(BACKEND, "down") for _ in range(100)])
    with pytest.raises(WaitAbandoned, match=f"^{BACKEND}: no reply in time"):
        retrying(clock, notices, budget=30.0).call(attempt)
    assert sum(clock.sleeps) == pytest.approx(30.0)


def test_closing_the_window_cancels_the_wait() -> None:
    clock, notices = ManualClockDouble(), list[str]()
    cancelled = threading.Event()

    def attempt() -> str:
        cancelled.set()
        raise BackendTransient(BACKEND, "down")

    with pytest.raises(WaitAbandoned, match="cancelled"):
        retrying(clock, notices, cancelled=cancelled).call(attempt)
