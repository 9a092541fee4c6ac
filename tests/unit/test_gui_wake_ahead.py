"""WakeAhead (gui/wake_ahead.py): typing wakes the node once per idle period, off the Tk
thread, never for a backend without a node, never with the setting off; failures are
logged only."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from gui.backend import AWS_TINYLLAMA, OPENAI
from gui.backend_errors import BackendBusy
from gui.backends import BackendEntry, BackendRegistry
from gui.settings import GuiSettings
from gui.wake_ahead import WakeAhead
from tests.doubles.gui_doubles import (
    BackendDouble,
    ChatViewDouble,
    InlineSchedulerDouble,
    ManualClockDouble,
)


@dataclass
class Harness:
    view: ChatViewDouble
    scheduler: InlineSchedulerDouble
    clock: ManualClockDouble
    aws: BackendDouble
    wake: WakeAhead
    settings: GuiSettings
    sending: bool = False


@pytest.fixture
def h() -> Harness:
    view, scheduler, clock = ChatViewDouble(), InlineSchedulerDouble(), ManualClockDouble()
    aws, openai = BackendDouble(), BackendDouble(name=OPENAI, can_wake=False)
    registry = BackendRegistry(
        [
            BackendEntry(AWS_TINYLLAMA, True, True, build=lambda: aws, can_wake=True),
            BackendEntry(OPENAI, False, False, build=lambda: openai),
        ]
    )
    harness = Harness(view, scheduler, clock, aws, None, GuiSettings(idle_minutes=2))  # type: ignore[arg-type]
    harness.wake = WakeAhead(
        view,
        registry,
        scheduler,
        settings=lambda: harness.settings,
        sending=lambda: harness.sending,
        clock=clock,
    )
    return harness


def test_typing_wakes_the_node_once_per_idle_period(h: Harness) -> None:
    for _ in range(20):  # a burst of keys
        h.wake.typed()
    assert h.aws.wakes == [2] and h.view.node == "Node: starting"
    h.clock.sleep(119)
    h.wake.typed()
    assert h.aws.wakes == [2]
    h.clock.sleep(1)  # the idle period is over: the node may have stopped
    h.wake.typed()
    assert h.aws.wakes == [2, 2]


def test_a_reply_restarts_the_period_and_a_send_in_flight_wakes_nothing(h: Harness) -> None:
    h.sending = True
    h.wake.typed()
    assert h.aws.wakes == []
    h.sending = False
    h.wake.node_used()  # the send settled
    h.clock.sleep(60)
    h.wake.typed()
    assert h.aws.wakes == []


def test_one_wake_at_a_time_never_blocking_the_keys(h: Harness) -> None:
    h.scheduler.hold = True  # the wake is still on its way
    h.wake.typed()
    h.clock.sleep(600)
    h.wake.typed()
    assert len(h.scheduler.held) == 1
    h.scheduler.finish()
    assert h.aws.wakes == [2]


def test_off_by_the_setting_and_for_a_backend_without_a_node(h: Harness) -> None:
    h.settings = replace(h.settings, wake_ahead=False)
    h.wake.typed()
    h.settings = replace(h.settings, wake_ahead=True, backend=OPENAI)
    h.wake.typed()
    assert h.aws.wakes == [] and h.scheduler.held == []


def test_a_failed_wake_is_logged_not_shown(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h.aws.woken = [BackendBusy(AWS_TINYLLAMA, "throttled", retry_after=1)]
    h.wake.typed()
    assert h.view.pane == [] and h.view.said("show_error") == []
    assert any("wake_failed" in record.getMessage() for record in caplog.records)
    h.wake.typed()  # no retry within the period: a hint, not a task
    assert h.aws.wakes == [2]
