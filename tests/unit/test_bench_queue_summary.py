"""bench/queue_summary.py: medians over rounds, ratios to the baselines, the goals."""

from __future__ import annotations

from typing import Any

from bench.queue_summary import goals, markdown_table, ratios, summary


def a_round(drain: float, p50: float, pickup: float) -> dict[str, Any]:
    per_job = {"round_trips": 3.0, "commands": 9.0, "redis_cpu_us": 40.0}
    return {
        "drain_jobs_per_second": drain,
        "latency_ms": {"p50": p50, "p95": p50 * 2},
        "pickup_ms": {"p50": pickup, "p95": pickup * 2},
        "per_job_enqueue_to_drained": per_job,
        "per_job_one_at_a_time": per_job,
    }


def summaries() -> dict[str, dict[str, Any]]:
    return {
        "tlfif": summary([a_round(3000, 1.0, 0.5), a_round(2000, 2.0, 0.7), {"error": "hung"}]),
        "saq": summary([a_round(1000, 2.0, 1.0)]),
        "floor": summary([a_round(6000, 0.5, 0.1)]),
    }


def test_summary_takes_medians_over_the_rounds_that_ran() -> None:
    tlfif = summaries()["tlfif"]
    assert tlfif["rounds"] == 2
    assert tlfif["drain_jobs_per_second"] == {"median": 2500, "min": 2000, "max": 3000}
    assert tlfif["pickup_p50_ms"]["median"] == 0.6
    assert tlfif["redis_cpu_us_per_job"]["median"] == 40.0
    assert summary([{"error": "hung"}]) == {}


def test_ratios_set_drain_and_both_p50s_against_each_baseline() -> None:
    found = ratios(summaries())["tlfif"]
    assert found["drain_over_saq"] == 2.5
    assert found["p50_over_saq"] == 0.75
    assert found["pickup_p50_over_floor"] == 6.0


def test_goals_say_which_are_met_and_which_could_not_be_measured() -> None:
    figures = summaries()
    checked = {goal["goal"]: goal for goal in goals(figures, ratios(figures))}
    assert checked["drain >= 1.5x saq"]["met"] is True
    assert checked["drain >= 0.4x the floor"] == {
        "goal": "drain >= 0.4x the floor",
        "value": 0.417,
        "met": True,
    }
    assert checked["pickup p50 <= 1 ms"]["met"] is True
    without_saq = {name: found for name, found in figures.items() if name != "saq"}
    unmeasured = goals(without_saq, ratios(without_saq))
    assert unmeasured[0]["met"] is None


def test_the_table_has_one_row_per_system_and_one_cell_per_heading() -> None:
    figures = summaries()
    systems: dict[str, dict[str, Any]] = {name: {"summary": f} for name, f in figures.items()}
    systems["rq"] = {"skipped": "no venv"}
    lines = markdown_table(systems, ratios(figures)).splitlines()
    assert len(lines) == 2 + 4
    assert {line.count("|") for line in lines} == {lines[0].count("|")}
