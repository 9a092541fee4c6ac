"""From the queue benchmark's rounds to its figures: medians over rounds with their
spread, ratios to the baselines (saq, the floor), and the Markdown table."""

from __future__ import annotations

import statistics
from typing import Any

from bench.queue_systems import BASELINES


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds that ran, with min and max."""
    done = [r for r in rounds if "error" not in r]
    if not done:
        return {}

    def over(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 3), "min": min(values),
                "max": max(values)}  # fmt: skip

    return {
        "rounds": len(done),
        "drain_jobs_per_second": over([r["drain_jobs_per_second"] for r in done]),
        "end_to_end_p50_ms": over([r["latency_ms"]["p50"] for r in done]),
        "end_to_end_p95_ms": over([r["latency_ms"]["p95"] for r in done]),
        "round_trips_per_job": over([r["per_job_enqueue_to_drained"]["round_trips"] for r in done]),
        "commands_per_job": over([r["per_job_enqueue_to_drained"]["commands"] for r in done]),
        "round_trips_per_job_one_at_a_time": over(
            [r["per_job_one_at_a_time"]["round_trips"] for r in done]
        ),
    }


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each system's drain rate and p50 over each baseline's (drain > 1: faster; p50 > 1:
    slower)."""
    found: dict[str, dict[str, float | None]] = {}
    for name, own in summaries.items():
        found[name] = {}
        for base in BASELINES:
            other = summaries.get(base)
            for figure, key in (("drain", "drain_jobs_per_second"), ("p50", "end_to_end_p50_ms")):
                mine = own[key]["median"] if own else None
                theirs = other[key]["median"] if other else None
                value = mine / theirs if mine and theirs else None
                found[name][f"{figure}_over_{base}"] = round(value, 3) if value else None
    return found


def markdown_table(
    systems: dict[str, dict[str, Any]], found: dict[str, dict[str, float | None]]
) -> str:
    """One row per system: drain rate and end-to-end p50 (median, min-max over rounds),
    each with its ratio to every baseline, then round trips and commands per job."""
    heads = ["system", "drain jobs/s"]
    heads += [f"vs {base}" for base in BASELINES] + ["end-to-end p50"]
    heads += [f"vs {base}" for base in BASELINES] + ["round trips/job", "commands/job"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, about in systems.items():
        lines.append("| " + " | ".join(row(name, about, found.get(name, {}))) + " |")
    return "\n".join(lines)


def row(name: str, about: dict[str, Any], found: dict[str, float | None]) -> list[str]:
    label = f"{name} {about.get('packages', {}).get(name) or ''}".strip()
    figures = about.get("summary")
    blank = [""] * (2 * len(BASELINES) + 3)
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
        f"{figures['round_trips_per_job']['median']:.2f}",
        f"{figures['commands_per_job']['median']:.2f}",
    ]


def spread_text(figure: dict[str, float], form: str, unit: str = "") -> str:
    text = form.format(figure["median"]) + unit
    if figure["min"] != figure["max"]:
        text += f" ({form.format(figure['min'])}-{form.format(figure['max'])})"
    return text


def times(value: float | None) -> str:
    return f"x{value:.2f}" if value is not None else "-"
