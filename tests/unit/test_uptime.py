"""UptimeLedger: sessions from once-a-minute looks, and running time since a moment."""

from __future__ import annotations

from tlfif.uptime import KEEP_MS, UptimeLedger

MIN = 60_000


def looks(*states: bool, start: int = 0) -> UptimeLedger:
    ledger = UptimeLedger()
    for minute, up in enumerate(states):
        ledger = ledger.observe(up, start + minute * MIN)
    return ledger


def test_sessions_from_looks() -> None:
    ledger = looks(False, True, True, True, False, False, True)
    assert ledger.sessions == [(1 * MIN, 3 * MIN), (6 * MIN, 6 * MIN)]
    assert ledger.open and ledger.observed_ms == 6 * MIN


def test_running_time_since_a_moment() -> None:
    ledger = looks(True, True, True, False, True, True)  # up 0-2, then 4-5
    assert ledger.running_seconds(0, 6 * MIN, up_now=False) == 3 * 60
    assert ledger.running_seconds(1 * MIN, 6 * MIN, up_now=False) == 2 * 60
    assert ledger.running_seconds(10 * MIN, 11 * MIN, up_now=False) == 0
    # A live heartbeat says it still runs: the open session runs on to now.
    assert ledger.running_seconds(0, 8 * MIN, up_now=True) == 2 * 60 + 4 * 60


def test_old_sessions_are_pruned() -> None:
    ledger = looks(True, True, False)
    later = ledger.observe(False, KEEP_MS + 10 * MIN)
    assert later.sessions == []
