"""StartLimit: systemd's StartLimitBurst within StartLimitIntervalSec, the first start too."""

from __future__ import annotations

from local.start_limit import StartLimit


class ClockDouble:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_starts_within_the_interval_then_none_until_the_oldest_ages_out() -> None:
    clock = ClockDouble()
    limit = StartLimit(burst=4, interval_seconds=300, clock=clock)
    for _ in range(4):  # at 100, 101, 102, 103
        assert limit.try_start()
        clock.now += 1
    assert not limit.try_start() and limit.starts == 4
    clock.now = 399.0
    assert not limit.try_start()
    clock.now = 400.0  # the first start is 300 s old: out of the window
    assert limit.try_start() and limit.starts == 4


def test_a_new_boot_starts_the_count_afresh() -> None:
    limit = StartLimit(burst=1, interval_seconds=300, clock=ClockDouble())
    assert limit.try_start() and not limit.try_start()
    limit.reset()
    assert limit.try_start()
