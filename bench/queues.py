"""TL-FIF's job queue next to the queues people would pick instead, on one redis-server.

For each system (bench/queue_systems.py): N no-op jobs with a 200-byte payload, one worker
process with 4 job slots (rq: 1). Drain: all N queued first, then the worker started and
timed from its first job to its N-th. End to end: jobs one at a time on the idle worker,
from the submitter's enqueue until it sees the result; pickup, in the same jobs, from the
submitter's enqueue call returning to the worker's job function starting. Per job: Redis
round trips, commands and CPU time from INFO (bench/queue_redis.py). Rounds interleave the
systems, each round in another order; figures are medians over rounds, with their spread,
and TL-FIF's against issue 15's goals.

`python -m bench queues [--jobs N] [--rounds R] [--latency-jobs L] [--systems a,b]`; the
defaults (`make bench`'s, ~3 min on 2 cores) also come from TLFIF_BENCH_QUEUES_JOBS and
TLFIF_BENCH_QUEUES_ROUNDS; issue 15's table took `--jobs 5000 --rounds 5 --latency-jobs 200`
(~10 min). Peers run in venvs `make bench-setup` makes; a peer without one is skipped, and
the bench says so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.queue_redis import BenchRedis
from bench.queue_runs import RunFailed, run_round, versions
from bench.queue_summary import goals, goals_text, markdown_table, ratios, summary
from bench.queue_systems import ROOT, SYSTEMS, System
from bench.report import conditions, write_results

JOBS = 1000
ROUNDS = 3
LATENCY_JOBS = 100
RUN_DIR = ROOT / "bench" / ".work" / "queues"
# What TL-FIF's figures depend on, digested into the results: the tree may not be committed.
TLFIF_SOURCES = ("tlfif", "watcher")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench queues", description=__doc__)
    env = os.environ.get
    parser.add_argument("--jobs", type=int, default=int(env("TLFIF_BENCH_QUEUES_JOBS", JOBS)))
    parser.add_argument("--rounds", type=int, default=int(env("TLFIF_BENCH_QUEUES_ROUNDS", ROUNDS)))
    parser.add_argument("--latency-jobs", type=int, default=LATENCY_JOBS)
    parser.add_argument("--systems", default=",".join(s.name for s in SYSTEMS))
    args = parser.parse_args(list(argv))
    if args.jobs < 2 or args.rounds < 1 or args.latency_jobs < 1:
        parser.error("--jobs must be at least 2, --rounds and --latency-jobs at least 1")
    unknown = set(args.systems.split(",")) - {s.name for s in SYSTEMS}
    if unknown:
        parser.error(f"unknown system(s) {', '.join(sorted(unknown))}")
    return args


def source_digest() -> dict[str, str]:
    """The commit, and a digest of TL-FIF's code as it is on disk (it may differ)."""
    digest = hashlib.sha256()
    for name in TLFIF_SOURCES:
        for path in sorted((ROOT / name).rglob("*")):
            if path.suffix in (".py", ".lua"):
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "git_head": head.stdout.strip(),
        f"sha256_of_{'_'.join(TLFIF_SOURCES)}": digest.hexdigest(),
    }


@contextmanager
def fresh_redis(run_dir: Path, started: dict[str, Any]) -> Iterator[BenchRedis]:
    """A redis-server of the bench's own in an emptied `run_dir`, its version and TL-FIF's
    source digest noted in the run's conditions; stopped when the block ends."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    server = BenchRedis(run_dir)
    try:
        started["redis_server"] = server.version()
        started["tlfif_source"] = source_digest()
        yield server
    finally:
        server.stop()


def available(chosen: list[System]) -> tuple[list[System], dict[str, dict[str, Any]]]:
    """The systems that can run, and for each its versions, or why it is skipped."""
    runnable, about = [], {}
    for system in chosen:
        about[system.name] = {"how": system.how, "slots": system.slots}
        reason = system.missing()
        if reason is None:
            try:
                about[system.name] |= versions(system)
            except RunFailed as exc:
                reason = f"its script does not start: {exc}"
        if reason is None:
            runnable.append(system)
        else:
            print(f"  {system.name}: skipped, {reason}")
            about[system.name]["skipped"] = reason
    return runnable, about


def measure(
    systems: list[System], server: BenchRedis, args: argparse.Namespace
) -> dict[str, list[dict[str, Any]]]:
    """Every round of every system; a failed run is recorded as such, and the next goes on."""
    rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in systems}
    latency_jobs = min(args.latency_jobs, args.jobs)
    for index in range(args.rounds):
        turn = index % len(systems)
        for system in systems[turn:] + systems[:turn]:
            log = RUN_DIR / f"{system.name}.log"
            try:
                found = run_round(system, server, args.jobs, latency_jobs, index, log)
            except RunFailed as exc:
                found = {"error": f"{exc} (log: {log.relative_to(ROOT)})"}
            rounds[system.name].append(found)
            print(f"  round {index + 1}/{args.rounds} {system.name:9} {progress(found)}")
    return rounds


def progress(found: dict[str, Any]) -> str:
    if "error" in found:
        return f"FAILED: {found['error']}"
    per_job = found["per_job_enqueue_to_drained"]
    return (
        f"{found['drain_jobs_per_second']:9,.0f} jobs/s  p50 {found['latency_ms']['p50']:7.2f} ms"
        f"  pickup p50 {found['pickup_ms']['p50']:6.2f} ms"
        f"  {per_job['round_trips']:5.2f} round trips/job"
    )


def run(argv: Sequence[str] = ()) -> Path:
    args = parse(argv)
    started = conditions()
    chosen = [s for s in SYSTEMS if s.name in args.systems.split(",")]
    print(f"queues: {args.jobs} jobs, {args.rounds} round(s), {len(chosen)} systems")
    systems, about = available(chosen)
    with fresh_redis(RUN_DIR, started) as server:
        rounds = measure(systems, server, args) if systems else {}
    summaries = {name: summary(found) for name, found in rounds.items()}
    for name in about:
        about[name] |= {"summary": summaries.get(name, {}), "rounds": rounds.get(name, [])}
    found = ratios(summaries)
    checked = goals(summaries, found)
    figures = {"method": method(args), "systems": about, "ratios": found, "goals": checked}
    path = write_results("queues", figures, started)
    print()
    print(markdown_table(about, found))
    print()
    print("TL-FIF against issue 15's goals:")
    print(goals_text(checked))
    return path


def method(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "jobs": args.jobs,
        "rounds": args.rounds,
        "latency_jobs_per_round": min(args.latency_jobs, args.jobs),
        "payload_bytes": 200,
        "worker": "one process per system, 4 job slots (rq: 1, SimpleWorker)",
        "drain": "all jobs queued with no worker running; the worker then started and timed "
        "from its first job's start to its N-th's ((N - 1) / seconds)",
        "end_to_end": "one job at a time on the idle worker, 5 untimed first, a random 2-10 ms "
        "pause before each: the submitter's enqueue until it sees the result",
        "pickup": "in the same timed jobs: the submitter's enqueue call returning to the "
        "worker's job function starting, both on time.perf_counter (CLOCK_MONOTONIC, one "
        "clock for all processes); below zero when the worker started the job before the "
        "enqueue call had returned (the call still had work to do once the job was visible)",
        "round_trips_per_job": "requests Redis read (INFO total_reads_processed) from the "
        "first enqueue to the N-th job run, over N: enqueue, claim, result write, the "
        "worker's own upkeep; not reading the result",
        "commands_per_job": "INFO commandstats calls over the same span, over N; counts each "
        "command in a pipeline and each redis.call in a Lua script; connection set-up left out",
        "redis_cpu_us_per_job": "redis-server's user + system CPU time (INFO cpu) over the "
        "same span, over N",
        "redis": 'redis-server started by the bench, save "", appendonly no, on 127.0.0.1, '
        "FLUSHALL + SCRIPT FLUSH + FUNCTION FLUSH before each run",
        "logging": "every worker at WARNING: no per-job log lines",
    }
