"""bench/queue_backlog.py: drain per depth over rounds, and the deepest over 5,000."""

from __future__ import annotations

from typing import Any

from bench.queue_backlog import markdown_table, summarise


def drain(rate: float, cpu_us: float = 50.0) -> dict[str, Any]:
    per_job = {"round_trips": 3.0, "commands": 9.0, "redis_cpu_us": cpu_us}
    return {"drain_jobs_per_second": rate, "per_job_enqueue_to_drained": per_job}


def test_the_ratio_is_the_deepest_median_over_the_reference_depth_median() -> None:
    found = summarise({
        1000: [drain(2100), drain(1900)],
        5000: [drain(2000), drain(1800), drain(2200)],
        20000: [drain(1950, 60.0), {"error": "hung"}],
    })  # fmt: skip
    assert found["depths"]["5000"]["drain_jobs_per_second"]["median"] == 2000
    assert found["depths"]["20000"]["rounds"] == 1
    assert found["depths"]["20000"]["redis_cpu_us_per_job"]["median"] == 60.0
    assert found["ratio"]["value"] == 0.975
    assert found["ratio"]["met"] is True


def test_a_depth_that_never_ran_leaves_the_ratio_unmeasured() -> None:
    found = summarise({5000: [drain(2000)], 20000: [{"error": "hung"}]})
    assert found["depths"]["20000"] == {"rounds": 0}
    assert found["ratio"]["value"] is None and found["ratio"]["met"] is None
    assert "failed" in markdown_table({"tlfif": found})


def test_the_table_has_a_row_per_depth_and_the_verdict() -> None:
    found = summarise({5000: [drain(2000)], 20000: [drain(1000)]})
    table = markdown_table({"tlfif": found})
    assert "| tlfif | 20,000 | 1,000 | 50 µs | 3.00 |" in table
    assert "NOT met" in table
