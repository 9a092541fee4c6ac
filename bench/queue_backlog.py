"""TL-FIF's drain rate as the backlog grows: is the cost of a job independent of how many
wait behind it? (issue 15: drain at 20,000 queued >= 0.95x drain at 5,000)

Each run is the queues benchmark's drain (bench/queue_runs.py): N no-op jobs queued with no
worker running, then the real WatcherNode (4 slots) started and timed from its first job to
its N-th, on the bench's own redis-server, flushed before each run. Rounds interleave the
depths, each round in another order; figures are medians over rounds, with min and max, and
Redis's CPU time per job beside them (a command that scans a list grows it). The curve is
drawn to bench/results/queue_backlog.png.

`python -m bench queue_backlog [--depths 1000,5000,20000] [--rounds R] [--systems tlfif]`:
other systems (the floor, say) can be drawn beside TL-FIF.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.plot import Guide, Point, line_plot
from bench.queue_redis import BenchRedis
from bench.queue_runs import RunFailed, queue_and_drain
from bench.queue_summary import over, spread_text
from bench.queue_systems import ROOT, SYSTEMS, System
from bench.queues import available, fresh_redis
from bench.report import RESULTS_DIR, conditions, ratio, write_results

DEPTHS = (1000, 5000, 20000)
ROUNDS = 3
RUN_DIR = ROOT / "bench" / ".work" / "queue_backlog"
# The goal: drain at the deepest backlog over drain at this one.
REFERENCE_DEPTH = 5000
GOAL = 0.95


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench queue_backlog", description=__doc__)
    parser.add_argument("--depths", default=",".join(map(str, DEPTHS)))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--systems", default="tlfif")
    args = parser.parse_args(list(argv))
    try:
        args.depths = sorted({int(depth) for depth in args.depths.split(",")})
    except ValueError:
        parser.error("--depths takes job counts separated by commas")
    if min(args.depths) < 2 or args.rounds < 1:
        parser.error("every depth must be at least 2, --rounds at least 1")
    unknown = set(args.systems.split(",")) - {s.name for s in SYSTEMS}
    if unknown:
        parser.error(f"unknown system(s) {', '.join(sorted(unknown))}")
    return args


def drain_run(system: System, server: BenchRedis, depth: int) -> dict[str, Any]:
    log = RUN_DIR / f"{system.name}.log"
    try:
        with log.open("a", encoding="utf-8") as out:
            drained = queue_and_drain(system, server, depth, out)
            drained.worker.stop()
    except RunFailed as exc:
        return {"error": f"{exc} (log: {log.relative_to(ROOT)})"}
    return drained.figures


def measure(
    systems: list[System], server: BenchRedis, depths: list[int], rounds: int
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """Every (system, depth) once per round, the order rotated each round."""
    runs = [(system, depth) for depth in depths for system in systems]
    found: dict[str, dict[int, list[dict[str, Any]]]] = {
        s.name: {depth: [] for depth in depths} for s in systems
    }
    for index in range(rounds):
        turn = index % len(runs)
        for system, depth in runs[turn:] + runs[:turn]:
            run = drain_run(system, server, depth)
            found[system.name][depth].append(run)
            shown = run.get("error") or f"{run['drain_jobs_per_second']:9,.0f} jobs/s"
            print(f"  round {index + 1}/{rounds} {system.name:6} {depth:7,} queued {shown}")
    return found


def summarise(by_depth: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per depth the median drain rate and Redis CPU per job over the rounds that ran, and
    the deepest backlog's drain over REFERENCE_DEPTH's (None if either is missing)."""
    depths: dict[str, Any] = {}
    for depth, runs in sorted(by_depth.items()):
        done = [run for run in runs if "error" not in run]
        if not done:
            depths[str(depth)] = {"rounds": 0}
            continue
        per_job = [run["per_job_enqueue_to_drained"] for run in done]
        depths[str(depth)] = {
            "rounds": len(done),
            "drain_jobs_per_second": over([run["drain_jobs_per_second"] for run in done]),
            "redis_cpu_us_per_job": over([figures["redis_cpu_us"] for figures in per_job]),
            "round_trips_per_job": over([figures["round_trips"] for figures in per_job]),
        }
    deepest = str(max(by_depth))
    drains = {d: f.get("drain_jobs_per_second", {}).get("median") for d, f in depths.items()}
    reference, last = drains.get(str(REFERENCE_DEPTH)), drains.get(deepest)
    value = ratio(last, reference) if last and reference else None
    return {
        "depths": depths,
        "ratio": {
            "what": f"drain at {int(deepest):,} queued over drain at {REFERENCE_DEPTH:,}",
            "value": value,
            "goal": f">= {GOAL}",
            "met": None if value is None else value >= GOAL,
        },
    }


def markdown_table(summaries: dict[str, dict[str, Any]]) -> str:
    """One row per (system, depth): drain rate (median, min-max), Redis CPU and round trips
    per job; then each system's ratio."""
    lines = ["| system | jobs queued | drain jobs/s | Redis CPU/job | round trips/job |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name, found in summaries.items():
        for depth, figures in found["depths"].items():
            if not figures["rounds"]:
                lines.append(f"| {name} | {int(depth):,} | failed: see the results | | |")
                continue
            drain = figures["drain_jobs_per_second"]
            lines.append(
                f"| {name} | {int(depth):,} | {spread_text(drain, '{:,.0f}')} "
                f"| {figures['redis_cpu_us_per_job']['median']:.0f} µs "
                f"| {figures['round_trips_per_job']['median']:.2f} |"
            )
    lines.append("")
    for name, found in summaries.items():
        about = found["ratio"]
        verdict = {True: "met", False: "NOT met", None: "not measured"}[about["met"]]
        lines.append(f"{name}: {about['what']}: {about['value']} (goal {about['goal']}: {verdict})")
    return "\n".join(lines)


def plot(summaries: dict[str, dict[str, Any]], depths: list[int]) -> Path:
    series: dict[str, list[Point | None]] = {}
    for name, found in summaries.items():
        points: list[Point | None] = []
        for depth in depths:
            drain = found["depths"][str(depth)].get("drain_jobs_per_second")
            points.append(Point(drain["median"], drain["min"], drain["max"]) if drain else None)
        series[name] = points
    guides: tuple[Guide, ...] = ()
    reference = summaries.get("tlfif", {}).get("depths", {}).get(str(REFERENCE_DEPTH), {})
    if reference.get("drain_jobs_per_second"):
        median = reference["drain_jobs_per_second"]["median"]
        guides = (Guide(GOAL * median, f"goal: {GOAL}x tl-fif at {REFERENCE_DEPTH:,}"),)
    return line_plot(
        RESULTS_DIR / "queue_backlog.png",
        "drain (jobs/s) vs backlog, medians and min-max",
        [f"{depth:,}" for depth in depths],
        series,
        x_title="jobs queued before the worker starts",
        guides=guides,
    )


def run(argv: Sequence[str] = ()) -> Path:
    args = parse(argv)
    started = conditions()
    chosen = [s for s in SYSTEMS if s.name in args.systems.split(",")]
    print(f"queue_backlog: depths {args.depths}, {args.rounds} round(s), {len(chosen)} system(s)")
    systems, about = available(chosen)
    with fresh_redis(RUN_DIR, started) as server:
        found = measure(systems, server, args.depths, args.rounds)
    summaries = {name: summarise(by_depth) for name, by_depth in found.items()}
    for name, by_depth in found.items():
        rounds = {str(depth): runs for depth, runs in by_depth.items()}
        about[name] |= {"summary": summaries[name], "rounds": rounds}
    RESULTS_DIR.mkdir(exist_ok=True)
    chart = plot(summaries, args.depths)
    method = {
        "depths": args.depths,
        "rounds": args.rounds,
        "drain": "the queues benchmark's: all jobs queued with no worker running, the worker "
        "then started and timed from its first job's start to its N-th's ((N - 1) / seconds)",
        "interleaved": "every (system, depth) once per round, the order rotated each round",
        "redis_cpu_us_per_job": "redis-server's user + system CPU time (INFO cpu) from the "
        "first enqueue to the N-th job run, over N",
        "redis": 'redis-server started by the bench, save "", appendonly no, flushed before '
        "each run",
        "plot": str(chart.relative_to(ROOT)),
    }
    path = write_results("queue_backlog", {"method": method, "systems": about}, started)
    print()
    print(markdown_table(summaries))
    print(f"plot: {chart.relative_to(ROOT)}")
    return path
