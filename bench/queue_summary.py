"""From the queue benchmark's rounds to its figures: medians over rounds with their
spread, ratios to the baselines (saq, the floor), issue 15's goals for TL-FIF, and the
Markdown table."""

from __future__ import annotations

import statistics
from typing import Any

from bench.queue_systems import BASELINES


def over(values: list[float]) -> dict[str, float]:
    """A figure over rounds: the median, with min and max."""
    return {"median": round(statistics.median(values), 3), "min": min(values),
            "max": max(values)}  # fmt: skip


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds that ran, with min and max."""
    done = [r for r in rounds if "error" not in r]
    if not done:
        return {}
    return {
        "rounds": len(done),
        "drain_jobs_per_second": over([r["drain_jobs_per_second"] for r in done]),
        "end_to_end_p50_ms": over([r["latency_ms"]["p50"] for r in done]),
        "end_to_end_p95_ms": over([r["latency_ms"]["p95"] for r in done]),
        "pickup_p50_ms": over([r["pickup_ms"]["p50"] for r in done]),
        "pickup_p95_ms": over([r["pickup_ms"]["p95"] for r in done]),
        "round_trips_per_job": over([r["per_job_enqueue_to_drained"]["round_trips"] for r in done]),
        "commands_per_job": over([r["per_job_enqueue_to_drained"]["commands"] for r in done]),
        "redis_cpu_us_per_job": over(
            [r["per_job_enqueue_to_drained"]["redis_cpu_us"] for r in done]
        ),
        "round_trips_per_job_one_at_a_time": over(
            [r["per_job_one_at_a_time"]["round_trips"] for r in done]
        ),
    }


RATIO_FIGURES = (
    ("drain", "drain_jobs_per_second"),
    ("p50", "end_to_end_p50_ms"),
    ("pickup_p50", "pickup_p50_ms"),
)


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each system's drain rate, end-to-end p50 and pickup p50 over each baseline's
    (drain > 1: faster; p50s > 1: slower)."""
    found: dict[str, dict[str, float | None]] = {}
    for name, own in summaries.items():
        found[name] = {}
        for base in BASELINES:
            other = summaries.get(base)
            for figure, key in RATIO_FIGURES:
                mine = own[key]["median"] if own else None
                theirs = other[key]["median"] if other else None
                value = mine / theirs if mine and theirs else None
                found[name][f"{figure}_over_{base}"] = round(value, 3) if value else None
    return found


# Issue 15's goals for TL-FIF's queue, each a ratio (or a figure) from the same run:
# (what, the ratio or summary figure, at least or at most, the bound).
GOALS = (
    ("drain >= 1.5x saq", "drain_over_saq", "min", 1.5),
    ("drain >= 0.4x the floor", "drain_over_floor", "min", 0.4),
    ("end-to-end p50 <= saq's", "p50_over_saq", "max", 1.0),
    ("pickup p50 <= 1 ms", "pickup_p50_ms", "max", 1.0),
)


def goals(
    summaries: dict[str, dict[str, Any]], found: dict[str, dict[str, float | None]]
) -> list[dict[str, Any]]:
    """TL-FIF against each goal: the value (None where a system it needs did not run)
    and whether it is met."""
    own, ratio_of = summaries.get("tlfif") or {}, found.get("tlfif", {})
    checked = []
    for what, key, kind, bound in GOALS:
        value = ratio_of.get(key) if key in ratio_of else own.get(key, {}).get("median")
        met = None if value is None else (value >= bound if kind == "min" else value <= bound)
        checked.append({"goal": what, "value": value, "met": met})
    return checked


def goals_text(checked: list[dict[str, Any]]) -> str:
    marks = {True: "met", False: "NOT met", None: "not measured"}
    return "\n".join(
        f"- {goal['goal']}: {'-' if goal['value'] is None else goal['value']} "
        f"({marks[goal['met']]})"
        for goal in checked
    )


def markdown_table(
    systems: dict[str, dict[str, Any]], found: dict[str, dict[str, float | None]]
) -> str:
    """One row per system: drain rate and end-to-end p50 (median, min-max over rounds),
    each with its ratio to every baseline, then pickup p50, round trips, commands and
    Redis CPU per job."""
    heads = ["system", "drain jobs/s"]
    heads += [f"vs {base}" for base in BASELINES] + ["end-to-end p50"]
    heads += [f"vs {base}" for base in BASELINES] + ["pickup p50"]
    heads += ["round trips/job", "commands/job", "Redis CPU/job"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, about in systems.items():
        lines.append("| " + " | ".join(row(name, about, found.get(name, {}))) + " |")
    return "\n".join(lines)


def row(name: str, about: dict[str, Any], found: dict[str, float | None]) -> list[str]:
    label = f"{name} {about.get('packages', {}).get(name) or ''}".strip()
    figures = about.get("summary")
    blank = [""] * (2 * len(BASELINES) + 5)
    if "skipped" in about:
        return [label, f"skipped: {about['skipped']}", *blank]
    if not figures:
        return [label, "failed: see rounds in the results", *blank]
    drain, p50 = figures["drain_jobs_per_second"], figures["end_to_end_p50_ms"]
    return [
        label,
        spread_text(drain, "{:,.0f}"),
        *[times(found.get(f"drain_over_{base}")) for base in BASELINES],
        spread_text(p50, "{:.2f}", " ms"),
        *[times(found.get(f"p50_over_{base}")) for base in BASELINES],
        spread_text(figures["pickup_p50_ms"], "{:.2f}", " ms"),
        f"{figures['round_trips_per_job']['median']:.2f}",
        f"{figures['commands_per_job']['median']:.2f}",
        f"{figures['redis_cpu_us_per_job']['median']:.0f} µs",
    ]


def spread_text(figure: dict[str, float], form: str, unit: str = "") -> str:
    """The median, then min-max (min to max where one is below zero)."""
    text = form.format(figure["median"]) + unit
    if figure["min"] != figure["max"]:
        between = " to " if figure["min"] < 0 else "-"
        text += f" ({form.format(figure['min'])}{between}{form.format(figure['max'])})"
    return text


def times(value: float | None) -> str:
    return f"x{value:.2f}" if value is not None else "-"
