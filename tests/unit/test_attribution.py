"""tlfif/attribution.py: boot to the first job, run time split among concurrent jobs, the
idle tail to the last job; and the shares of concurrent jobs sum to the wall time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlfif.attribution import RunLedger, cost_eur


def test_one_job_carries_the_boot_and_its_run() -> None:
    ledger = RunLedger(booted_at=0.0)
    ledger.ready(40.0)
    ledger.start("a", 41.0)
    share = ledger.finish("a", "alice", 45.0)
    assert (share.run_seconds, share.boot_seconds, share.node_seconds) == (4.0, 40.0, 44.0)
    ledger.start("b", 50.0)
    second = ledger.finish("b", "bob", 52.0)
    assert second.boot_seconds == 0.0 and second.run_seconds == 2.0  # boot is carried once


def test_concurrent_jobs_split_each_second() -> None:
    ledger = RunLedger(booted_at=0.0)
    ledger.ready(0.0)
    ledger.start("a", 0.0)
    ledger.start("b", 2.0)  # a alone for 2 s, then both for 2 s
    assert ledger.finish("a", "alice", 4.0).run_seconds == pytest.approx(3.0)
    assert ledger.finish("b", "bob", 6.0).run_seconds == pytest.approx(3.0)  # 1 + 2 alone


def test_the_idle_tail_goes_to_the_last_job_and_a_finished_job_counts_once() -> None:
    ledger = RunLedger(booted_at=0.0)
    ledger.ready(10.0)
    assert ledger.idle_tail(15.0) == 5.0 and ledger.unclaimed_boot() == 10.0
    ledger.start("a", 20.0)
    ledger.finish("a", "alice", 21.0)
    assert ledger.finish("a", "alice", 22.0).node_seconds == 0.0
    assert ledger.last is not None and ledger.last.sub == "alice"
    assert ledger.idle_tail(81.0) == 60.0 and ledger.unclaimed_boot() == 0.0


def test_a_dropped_job_is_not_the_last() -> None:
    ledger = RunLedger(booted_at=0.0)
    ledger.ready(0.0)
    ledger.start("a", 0.0)
    ledger.drop("a", 1.0)
    assert ledger.last is None and ledger.running == 0


def test_cost_is_node_seconds_at_the_hourly_price() -> None:
    assert cost_eur(3600, 0.598) == pytest.approx(0.598)
    assert cost_eur(90, 0.6) == pytest.approx(0.015)


# A job: (start, duration) in whole seconds, so the union is easy to count second by second.
jobs = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20)), min_size=1, max_size=8)


@given(jobs)
def test_shares_of_concurrent_jobs_sum_to_the_wall_time(spans: list[tuple[int, int]]) -> None:
    ledger = RunLedger(booted_at=0.0)
    ledger.ready(0.0)
    events = sorted(
        [(start, 1, n) for n, (start, _) in enumerate(spans)]
        + [(start + length, 0, n) for n, (start, length) in enumerate(spans)]
    )  # at one instant, ends before starts, as the ledger sees them in any order
    total = 0.0
    for at, is_start, n in events:
        if is_start:
            ledger.start(f"job-{n}", float(at))
        else:
            total += ledger.finish(f"job-{n}", "alice", float(at)).run_seconds
    busy = {second for start, length in spans for second in range(start, start + length)}
    assert total == pytest.approx(len(busy))
