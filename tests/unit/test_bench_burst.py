"""bench/burst.py: the summary over rounds and the side-by-side table."""

from __future__ import annotations

from bench.burst import markdown_table, summarise


def test_the_summary_takes_each_node_counts_median_and_their_ratio() -> None:
    runs = [
        {"nodes": 1, "seconds": 8.0, "jobs_per_second": 4.0},
        {"nodes": 1, "seconds": 10.0, "jobs_per_second": 3.0},
        {"nodes": 1, "seconds": 9.0, "jobs_per_second": 3.5},
        {"nodes": 2, "seconds": 4.0, "jobs_per_second": 7.0},
        {"nodes": 2, "seconds": 5.0, "jobs_per_second": 6.0},
        {"nodes": 2, "seconds": 4.5, "jobs_per_second": 6.5},
    ]
    found = summarise(runs)
    assert found["jobs_per_second"]["1"] == {"median": 3.5, "min": 3.0, "max": 4.0}
    assert found["jobs_per_second"]["2"]["median"] == 6.5
    assert found["ratio_2_to_1"] == round(6.5 / 3.5, 3)
    table = markdown_table(found)
    assert "| 2 nodes | 6.50 (6.00 to 7.00) |" in table
    assert "| 2 nodes / 1 node | 1.86 |" in table
