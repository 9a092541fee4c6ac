"""A wall clock (seconds since the epoch) that moves only when a test moves it."""

from __future__ import annotations


class WallClockDouble:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
