"""bench/watcher_engine.py: through the watcher over direct, per concurrency."""

from __future__ import annotations

from bench.watcher_engine import CONCURRENCIES, markdown_table, summarise


def test_the_ratio_is_of_the_medians_and_checked_against_the_goal() -> None:
    found = {}
    for slots in CONCURRENCIES:
        found[f"direct_{slots}"] = [{"jobs_per_second": v} for v in (10.0, 12.0, 11.0)]
        found[f"watcher_{slots}"] = [{"jobs_per_second": v} for v in (10.0, 10.6, 9.0)]
    per_slots = summarise(found)
    first = per_slots[str(CONCURRENCIES[0])]
    assert first["direct"]["median"] == 11.0 and first["watcher"]["median"] == 10.0
    assert first["watcher_over_direct"] == 0.909 and first["goal_met"] is False
    assert "NOT met" in markdown_table(per_slots)
