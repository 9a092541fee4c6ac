"""What every system's script shares: its command line, the no-op job, and the lines it
reports to the bench.

`python -m bench.peers.<system>_worker ROLE --redis URL [--jobs N] [--concurrency C]`:
- `work`: run the system's worker until SIGTERM; report "drained" once it has run N jobs;
- `enqueue`: queue N jobs, then report "enqueued";
- `latency`: run N jobs one at a time (enqueue, wait for the result), report "latencies"
  with, for each timed job, when its enqueue call returned;
- `versions`: report the Python and the package versions the system runs on.

Pickup (the enqueue call returns -> the job function starts) is taken across the two
processes on one clock, time.perf_counter (CLOCK_MONOTONIC on Linux, shared by every
process): the submitter notes when each timed job's enqueue returned (`enqueued()`), and
the worker appends when each one started to the file PICKUP_LOG_ENV names, one write per
timed job; drain jobs carry another prefix and write nothing.

Reports are JSON lines on stdout behind a prefix, so a library printing its own banner
there is ignored. Standard library only: this runs in every peer's venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

PREFIX = "@bench "
PAYLOAD_BYTES = 200
# One-at-a-time jobs: untimed first ones (connections, subscriptions, caches), then a
# random pause before each timed one, so the worker is idle when it arrives and a polling
# worker is met at every phase of its poll, not always at the same one.
WARM_UP_JOBS = 5
GAP_SECONDS = (0.002, 0.010)
# How long a submitter waits for any one result before the run counts as failed.
RESULT_TIMEOUT_SECONDS = 10

ROLES = ("work", "enqueue", "latency", "versions")
# Set by the bench for the worker: where it appends "<index> <perf_counter_ns>" as each
# timed job starts. Not TLFIF_-prefixed: the bench keeps TLFIF_ settings from the workers.
PICKUP_LOG_ENV = "BENCH_PICKUP_LOG"
TIMED_HEAD = "lat "


@dataclass(frozen=True)
class Args:
    role: str
    redis_url: str
    jobs: int
    concurrency: int
    seed: int


def report(kind: str, **fields: Any) -> None:
    # The process's own stdout: celery's worker swaps sys.stdout for a logger.
    out = sys.__stdout__ or sys.stdout
    out.write(PREFIX + json.dumps({"kind": kind, **fields}) + "\n")
    out.flush()


def payload(index: int, head: str = "job ") -> str:
    """A job's argument: PAYLOAD_BYTES of ASCII, numbered so no two are alike; timed
    one-at-a-time jobs start with TIMED_HEAD instead, and the same length."""
    start = f"{head}{index:06d} "
    return start + "x" * (PAYLOAD_BYTES - len(start))


class Tally:
    """Counts the no-op jobs a worker ran (from any thread) and reports "drained", with
    the time from the first to the N-th, when the N-th runs: the worker's start-up is
    not part of the drain."""

    def __init__(self) -> None:
        self.target = 0
        self._count = 0
        self._first = 0.0
        self._lock = threading.Lock()

    def ran(self) -> None:
        now = time.perf_counter()
        with self._lock:
            self._count += 1
            if self._count == 1:
                self._first = now
            if self._count == self.target:
                report("drained", count=self._count, seconds=now - self._first)


TALLY = Tally()


class PickupLog:
    """The worker's side of pickup: when each timed job started, appended to a file opened
    once (os.write: no buffer to flush at exit, whole lines from any thread)."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def open(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def started(self, payload: str) -> None:
        if self.fd is not None and payload.startswith(TIMED_HEAD):
            index = payload[len(TIMED_HEAD) : len(TIMED_HEAD) + 6]
            os.write(self.fd, f"{index} {time.perf_counter_ns()}\n".encode())


PICKUP_LOG = PickupLog()


class EnqueueClock:
    """The submitter's side of pickup: when the enqueue call of each timed job returned."""

    def __init__(self) -> None:
        self.current: int | None = None  # the timed job being submitted; None: untimed
        self.returned_ns: dict[int, int] = {}

    def mark(self) -> None:
        if self.current is not None:
            self.returned_ns[self.current] = time.perf_counter_ns()


ENQUEUE_CLOCK = EnqueueClock()


def noop(payload: str) -> int:
    """The job every system runs: note a timed job's start, count it, and return the
    payload's length."""
    PICKUP_LOG.started(payload)
    TALLY.ran()
    return len(payload)


def enqueued() -> None:
    """Called by each system's submitter as soon as its enqueue call has returned."""
    ENQUEUE_CLOCK.mark()


def one_at_a_time(run_one: Callable[[str], object], jobs: int, seed: int) -> list[float]:
    """Milliseconds from submitting each of `jobs` jobs to its result, one after another."""
    gaps = random.Random(seed)
    for index in range(WARM_UP_JOBS):
        run_one(payload(index))
    samples = []
    for index in range(jobs):
        time.sleep(gaps.uniform(*GAP_SECONDS))
        ENQUEUE_CLOCK.current = index
        started = time.perf_counter()
        run_one(payload(index, TIMED_HEAD))
        samples.append((time.perf_counter() - started) * 1000)
    ENQUEUE_CLOCK.current = None
    return samples


async def one_at_a_time_async(
    run_one: Callable[[str], Awaitable[object]], jobs: int, seed: int
) -> list[float]:
    """one_at_a_time for a system whose client is async."""
    gaps = random.Random(seed)
    for index in range(WARM_UP_JOBS):
        await run_one(payload(index))
    samples = []
    for index in range(jobs):
        await asyncio.sleep(gaps.uniform(*GAP_SECONDS))
        ENQUEUE_CLOCK.current = index
        started = time.perf_counter()
        await run_one(payload(index, TIMED_HEAD))
        samples.append((time.perf_counter() - started) * 1000)
    ENQUEUE_CLOCK.current = None
    return samples


def parse(argv: Sequence[str]) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    given = parser.parse_args(list(argv))
    return Args(given.role, given.redis, given.jobs, given.concurrency, given.seed)


def versions(distributions: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def main(
    *,
    work: Callable[[Args], None],
    enqueue: Callable[[Args], None],
    latency: Callable[[Args], list[float]],
    distributions: Sequence[str],
) -> int:
    """Run the role named on the command line with the system's own three functions."""
    args = parse(sys.argv[1:])
    # No per-job log lines from any system: the bench compares queues, not logging.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.role == "versions":
        report("versions", python=sys.version.split()[0], packages=versions(distributions))
    elif args.role == "work":
        TALLY.target = args.jobs
        if os.environ.get(PICKUP_LOG_ENV):
            PICKUP_LOG.open(os.environ[PICKUP_LOG_ENV])
        work(args)
    elif args.role == "enqueue":
        started = time.perf_counter()
        enqueue(args)
        report("enqueued", jobs=args.jobs, seconds=time.perf_counter() - started)
    else:
        samples = latency(args)
        returned = ENQUEUE_CLOCK.returned_ns
        report("latencies", ms=samples, jobs_run=len(samples) + WARM_UP_JOBS,
               enqueued_ns=[returned.get(index) for index in range(len(samples))])  # fmt: skip
    return 0
