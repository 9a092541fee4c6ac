"""bench/queue_runs.py: pickup from the submitter's and the worker's clocks."""

from __future__ import annotations

import pytest

from bench.queue_runs import pickup_ms


def test_pickup_pairs_each_timed_job_with_its_first_start() -> None:
    started = "000000 1500000\n000001 2000000\n000001 9000000\n"
    assert pickup_ms([1_000_000, 2_250_000], started) == pytest.approx([0.5, -0.25])


def test_jobs_without_a_return_time_or_a_start_are_left_out() -> None:
    assert pickup_ms([None, 1_000_000, 1_000_000], "000000 5\n000001 3000000\n") == [2.0]
