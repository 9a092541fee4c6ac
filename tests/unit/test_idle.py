"""IdleTimer on a clock the tests move by hand, and wait_expired on the real one."""

from __future__ import annotations

import asyncio
import time

import pytest

from watcher.idle import IdleTimer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class ClockDouble:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ClockDouble:
    return ClockDouble()


def test_not_armed_before_ready(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    clock.advance(10_000)

    assert timer.seconds_left() is None
    assert not timer.expired()


def test_starts_when_ready_and_expires_after_the_default(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    clock.advance(299.5)
    assert timer.seconds_left() == pytest.approx(0.5)
    assert not timer.expired()

    clock.advance(0.5)
    assert timer.expired()


def test_marking_ready_again_does_not_restart(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    clock.advance(200)
    timer.mark_ready()

    assert timer.seconds_left() == pytest.approx(100)


def test_never_fires_while_a_job_is_in_flight(clock: ClockDouble) -> None:
    timer = IdleTimer(60, None, clock)
    timer.mark_ready()
    timer.job_started()
    clock.advance(10_000)

    assert timer.seconds_left() is None
    assert not timer.expired()
    assert timer.active_jobs == 1


def test_restarts_when_a_job_finishes(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    clock.advance(250)
    timer.job_started()
    clock.advance(100)
    timer.job_finished(idle_minutes=5)

    assert timer.seconds_left() == pytest.approx(300)


def test_waits_for_every_job_in_flight(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    timer.job_started()
    timer.job_started()
    timer.job_finished(idle_minutes=1)
    clock.advance(120)

    assert timer.seconds_left() is None
    timer.job_finished(idle_minutes=2)
    assert timer.seconds_left() == pytest.approx(120)


def test_the_latest_jobs_idle_minutes_win(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    timer.job_started()
    timer.job_finished(idle_minutes=30)
    timer.job_started()
    timer.job_finished(idle_minutes=1)

    assert timer.window_seconds == 60
    clock.advance(60)
    assert timer.expired()


def test_the_operator_cap_applies_to_every_window(clock: ClockDouble) -> None:
    timer = IdleTimer(300, cap_seconds=2.0, clock=clock)
    timer.mark_ready()
    assert timer.seconds_left() == pytest.approx(2.0)

    timer.job_started()
    timer.job_finished(idle_minutes=30)
    assert timer.window_seconds == 2.0


def test_restart_counts_the_window_again(clock: ClockDouble) -> None:
    timer = IdleTimer(60, None, clock)
    timer.mark_ready()
    clock.advance(60)
    assert timer.expired()

    timer.restart()
    assert timer.seconds_left() == pytest.approx(60)


def test_finishing_an_unstarted_job_is_a_bug(clock: ClockDouble) -> None:
    timer = IdleTimer(60, None, clock)
    with pytest.raises(RuntimeError):
        timer.job_finished(idle_minutes=1)


@pytest.mark.anyio
async def test_wait_expired_returns_within_a_second_of_the_deadline() -> None:
    timer = IdleTimer(300, cap_seconds=0.3)
    started = time.monotonic()
    timer.mark_ready()

    await asyncio.wait_for(timer.wait_expired(), timeout=2)
    assert 0.3 <= time.monotonic() - started < 1.3


@pytest.mark.anyio
async def test_wait_expired_holds_while_a_job_runs_and_wakes_when_it_ends() -> None:
    timer = IdleTimer(300, cap_seconds=0.1)
    timer.mark_ready()
    timer.job_started()
    waiter = asyncio.create_task(timer.wait_expired())
    await asyncio.sleep(0.7)
    assert not waiter.done()

    finished = time.monotonic()
    timer.job_finished(idle_minutes=5)
    await asyncio.wait_for(waiter, timeout=2)
    assert time.monotonic() - finished < 1.0


@pytest.mark.anyio
async def test_wait_expired_follows_an_injected_clock(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    waiter = asyncio.create_task(timer.wait_expired())
    await asyncio.sleep(0.05)
    assert not waiter.done()

    clock.advance(300)
    await asyncio.wait_for(waiter, timeout=2)


def test_frozen_while_the_engine_is_down_then_a_whole_window_again(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.mark_ready()
    clock.advance(290)
    timer.freeze()
    clock.advance(10_000)
    assert timer.seconds_left() is None and not timer.expired()
    timer.thaw()
    assert timer.seconds_left() == 300


def test_a_wake_before_ready_sets_the_window_counted_from_ready(clock: ClockDouble) -> None:
    timer = IdleTimer(300, None, clock)
    timer.woken(wake_ms=1, idle_minutes=2, age_seconds=0)
    clock.advance(90)  # the boot the wake asked for
    timer.mark_ready()
    assert timer.window_seconds == 120 and timer.seconds_left() == 120
    clock.advance(120)
    assert timer.expired()


def test_a_wake_on_a_ready_node_counts_from_the_wake_and_the_latest_wins(
    clock: ClockDouble,
) -> None:
    timer = IdleTimer(1800, None, clock)
    timer.mark_ready()
    clock.advance(100)
    timer.woken(wake_ms=5_000, idle_minutes=1, age_seconds=3)  # seen at the beat, 3 s late
    assert timer.seconds_left() == 57
    timer.woken(wake_ms=5_000, idle_minutes=30, age_seconds=0)  # the same note again
    timer.woken(wake_ms=4_000, idle_minutes=30, age_seconds=0)  # an older one
    assert timer.window_seconds == 60
    timer.job_started()
    timer.job_finished(idle_minutes=10)  # then a job: its minutes, as always
    assert timer.seconds_left() == 600


def test_a_wake_is_capped_as_a_job_is(clock: ClockDouble) -> None:
    timer = IdleTimer(300, 1.0, clock)
    timer.mark_ready()
    timer.woken(wake_ms=1, idle_minutes=30, age_seconds=0)
    assert timer.window_seconds == 1.0
