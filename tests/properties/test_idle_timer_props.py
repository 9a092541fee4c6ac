"""watcher/idle.py: whatever the node does, in any order, the idle timer never expires
while a job is in flight, and otherwise expires exactly when a simple model says: the node
is ready, not frozen, runs no job, and the window (the last finished job's idle minutes,
capped) has passed since the timer last restarted.
"""

from __future__ import annotations

import math

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.doubles.wall_clock import WallClockDouble
from tlfif.contracts import DEFAULT_IDLE_MINUTES
from watcher.idle import IdleTimer

# Made while conftest.py's profile is loaded, as @given's settings are.
SETTINGS = settings()


class IdleTimerAgainstItsModel(RuleBasedStateMachine):
    """Drives an IdleTimer and a model of it side by side on one clock."""

    clock: WallClockDouble
    timer: IdleTimer
    cap: float | None
    ready: bool
    frozen: bool
    active: int
    window: float
    restarted_at: float

    @initialize(
        default_minutes=st.sampled_from([DEFAULT_IDLE_MINUTES, 1, 30]),
        cap=st.none() | st.floats(1, 1800),
    )
    def start(self, default_minutes: int, cap: float | None) -> None:
        self.clock = WallClockDouble(1000.0)
        self.timer = IdleTimer(default_minutes * 60, cap, self.clock)
        self.cap = cap
        self.ready = self.frozen = False
        self.active = 0
        self.window = self.capped(default_minutes * 60)
        self.restarted_at = math.nan  # set when the node is ready

    def capped(self, seconds: float) -> float:
        return seconds if self.cap is None else min(seconds, self.cap)

    def restart_model(self) -> None:
        if self.ready:
            self.restarted_at = self.clock.now

    @property
    def deadline(self) -> float:
        return self.restarted_at + self.window

    @property
    def counting(self) -> bool:
        return self.ready and not self.frozen and self.active == 0

    @rule()
    def mark_ready(self) -> None:
        self.timer.mark_ready()
        if not self.ready:
            self.ready = True
            self.restart_model()

    @rule()
    def job_started(self) -> None:
        self.timer.job_started()
        self.active += 1

    @precondition(lambda self: self.active > 0)
    @rule(idle_minutes=st.integers(1, 30))
    def job_finished(self, idle_minutes: int) -> None:
        self.timer.job_finished(idle_minutes)
        self.active -= 1
        self.window = self.capped(idle_minutes * 60)
        self.restart_model()

    @rule(seconds=st.floats(0, 5) | st.floats(0, 3600))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @precondition(lambda self: self.counting and self.deadline >= self.clock.now)
    @rule(just_before=st.booleans())
    def advance_to_the_deadline(self, just_before: bool) -> None:
        """The boundary itself, which random steps of float seconds almost never hit."""
        target = math.nextafter(self.deadline, -math.inf) if just_before else self.deadline
        self.clock.now = max(self.clock.now, target)

    @rule()
    def freeze(self) -> None:
        self.timer.freeze()
        self.frozen = True

    @rule()
    def thaw(self) -> None:
        self.timer.thaw()
        self.frozen = False
        self.restart_model()

    @rule()
    def restart(self) -> None:
        self.timer.restart()
        self.restart_model()

    @invariant()
    def a_job_in_flight_holds_the_timer(self) -> None:
        if self.active > 0:
            assert self.timer.seconds_left() is None
            assert not self.timer.expired()

    @invariant()
    def the_timer_agrees_with_the_model(self) -> None:
        assert self.timer.window_seconds == self.window
        assert self.timer.active_jobs == self.active
        if not self.counting:
            assert self.timer.seconds_left() is None
            assert not self.timer.expired()
            return
        assert self.timer.seconds_left() == max(0.0, self.deadline - self.clock.now)
        assert self.timer.expired() == (self.clock.now >= self.deadline)


def test_the_idle_timer_expires_exactly_when_its_model_says() -> None:
    run_state_machine_as_test(IdleTimerAgainstItsModel, settings=SETTINGS)
